"""Demos 1 and 6: a character-level LSTM language model on Python's own source, and generation.

The text is the Python standard library's source (as Karpathy's char-rnn trained on the Linux
source): it is on every machine, so nothing is downloaded. ``examples/demos/char_lm.yaml`` (2
stacked LSTMs of 256 over 64-wide character embeddings) is compiled and trained with the
generated ``train.py`` in stages ("train more": ``--max-steps N`` then ``--resume`` with a larger
N). After each stage the held-out bits per character (the end of the text, which the model
never trains on) and a sample are recorded. The held-out characters the model is scored on are
also compressed with ``gzip -9`` and ``xz -9`` (Python's ``gzip`` and ``lzma`` modules), alone
and after the training text, so that the model's bits per character sit next to theirs. Finally
the trained model generates from one prime with argmax, top-k and temperature sampling.

    python demos/char_lm.py            # ~10 min on 2 cores: docs/results/char_lm.{md,json,png}
    python demos/char_lm.py --quick    # a minute or two, results under runs/demos/char_lm
"""

from __future__ import annotations

import gzip
import lzma
import math
import os
import sys
from pathlib import Path

import yaml

# One thread per training process: on 2 shared cores torch's default (one per core) slows
# everything down when another process wants a core too. Set OMP_NUM_THREADS to override.
os.environ.setdefault("OMP_NUM_THREADS", "1")

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DATA, ROOT, load_generated, parse, pyplot, table

sys.path.insert(0, str(ROOT / "examples" / "data"))
from make_corpus import corpus

STEM = "char_lm"

# Standard-library modules whose source makes the corpus, in this order: the held-out part is
# the end of the text (asyncio, with 6M characters). About 6M characters in all (Python 3.11),
# enough that the full run reads each training character about once: with fewer, the model
# learns the training text by heart and the held-out bpc rises again after two epochs.
# Modules missing from an installation, or frozen into it, are skipped by corpus().
MODULES = [
    "textwrap", "string", "bisect", "heapq", "colorsys", "fnmatch", "shlex", "glob", "difflib",
    "calendar", "fractions", "statistics", "argparse", "json.decoder", "collections",
    "functools", "dataclasses", "enum", "inspect", "typing", "pathlib", "pprint", "random",
    "datetime", "_pydecimal", "ast", "tokenize", "configparser", "csv", "gettext", "ipaddress",
    "logging", "optparse", "pickle", "pydoc", "shutil", "subprocess", "tarfile", "threading",
    "traceback", "zipfile", "tempfile", "contextlib", "copy", "weakref", "numbers", "queue",
    "sched", "selectors", "socket", "uuid", "imaplib", "smtplib", "ftplib", "mailbox",
    "plistlib", "platform", "cmd", "code", "dis", "doctest", "filecmp", "fileinput", "getopt",
    "pickletools", "_pyio", "turtle", "pdb", "ssl", "bdb", "pstats", "trace", "socketserver",
    "_strptime", "pkgutil", "modulefinder", "profile", "tracemalloc", "compileall", "base64",
    "_markupbase", "poplib", "lzma", "bz2", "pyclbr", "graphlib", "types", "py_compile",
    "rlcompleter", "sysconfig", "mimetypes", "gzip", "hashlib", "hmac", "linecache", "netrc",
    "operator", "quopri", "reprlib", "secrets", "shelve", "signal", "symtable", "tabnanny",
    "timeit", "warnings", "wave", "webbrowser", "token", "keyword", "opcode", "copyreg",
    "contextvars", "email.message", "email._header_value_parser", "email.utils",
    "email.feedparser", "email.generator", "email.headerregistry", "email._policybase",
    "email.policy", "email.header", "email.charset", "http.client", "http.server",
    "http.cookiejar", "http.cookies", "urllib.request", "urllib.parse", "urllib.robotparser",
    "logging.handlers", "logging.config", "unittest.case", "unittest.mock", "unittest.loader",
    "unittest.result", "unittest.runner", "unittest.main", "json.encoder", "json.scanner",
    "xml.etree.ElementTree", "xml.dom.minidom", "xml.dom.pulldom", "xml.sax.saxutils",
    "xml.sax.expatreader", "importlib.metadata", "concurrent.futures._base",
    "concurrent.futures.process", "concurrent.futures.thread", "sqlite3.dbapi2",
    "zoneinfo._zoneinfo", "zoneinfo._tzpath", "tomllib._parser", "wsgiref.handlers",
    "wsgiref.simple_server", "wsgiref.validate", "ctypes.util", "html.parser", "dbm.dumb",
    "encodings.idna", "encodings.punycode", "multiprocessing.connection",
    "multiprocessing.context", "multiprocessing.managers", "multiprocessing.pool",
    "multiprocessing.process", "multiprocessing.queues", "multiprocessing.reduction",
    "multiprocessing.synchronize", "multiprocessing.shared_memory", "multiprocessing.util",
    "asyncio.base_events", "asyncio.tasks", "asyncio.events", "asyncio.streams",
    "asyncio.selector_events", "asyncio.futures", "asyncio.locks", "asyncio.queues",
    "asyncio.subprocess", "asyncio.unix_events", "asyncio.sslproto", "asyncio.base_subprocess",
    "asyncio.runners",
]

# corpus size, the stages (cumulative steps, learning rate: None is the spec's), batch size and
# sample length. The last full stage trains on at a third of the rate: Adam at a constant rate
# stalls above the loss a lower rate then reaches.
FULL = {"chars": 6_000_000, "batch": 32, "length": 400,
        "stages": [(100, None), (400, None), (900, None), (1400, None), (1800, 0.001)]}
QUICK = {"chars": 120_000, "batch": 16, "length": 80,
         "stages": [(10, None), (40, None), (80, None)]}
PRIME = "def "
STAGE_TEMPERATURE = 0.8  # the samples of the "train more" progression
GENERATIONS = [  # (label, temperature, top-k): demo 6
    ("argmax", 0.0, 0),
    ("top-k 5, temperature 1", 1.0, 5),
    ("temperature 0.5", 0.5, 0),
    ("temperature 0.8", 0.8, 0),
    ("temperature 1.0", 1.0, 0),
]


def make_data(path: Path, max_chars: int) -> str:
    """Write the first max_chars characters of the corpus of MODULES to path; return the text."""
    text = corpus(max_chars, MODULES)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="ascii")
    return text


def held_out_text(text: str, validation: float, test: float, steps: int) -> tuple[str, str]:
    """(training text, the held-out characters the model is scored on), as train.py cuts them.

    train.py splits a text in time order (train, validation, test), cuts the validation part
    into rows of `steps` inputs whose targets are the next characters, and drops the tail that
    does not fill a row: the scored characters are held[1 : rows * steps + 1].
    """
    n_val, n_test = int(len(text) * validation), int(len(text) * test)
    n_train = len(text) - n_val - n_test
    held = text[n_train : n_train + n_val]
    rows = (len(held) - 1) // steps
    return text[:n_train], held[1 : rows * steps + 1]


def compressed_bits(data: bytes, compressor: str) -> int:
    """Size in bits of `gzip -9` or `xz -9` (lzma preset 9) output.

    Python's lzma is liblzma, as xz: the same bytes. Python's gzip deflates with zlib, whose
    level 9 output can differ from the gzip command's by a few bytes in ten thousand.
    """
    if compressor == "gzip":
        return 8 * len(gzip.compress(data, compresslevel=9, mtime=0))
    return 8 * len(lzma.compress(data, preset=9))


def baselines(train_text: str, scored: str) -> dict:
    """Bits per character of gzip -9 and xz -9 on the scored text.

    alone: the held-out text compressed by itself. after training text: bits(train + held-out)
    - bits(train), the compressor having "learned" from the training text, as the model has.
    """
    train_bytes, scored_bytes = train_text.encode("ascii"), scored.encode("ascii")
    out = {}
    for name in ("gzip", "xz"):
        alone = compressed_bits(scored_bytes, name)
        after = (compressed_bits(train_bytes + scored_bytes, name)
                 - compressed_bits(train_bytes, name))
        out[name] = {"alone": alone / len(scored), "after_train": after / len(scored)}
    return out


def check_scored(code: Path, data: Path, scored: str) -> int:
    """Check that `scored` is exactly what train.py scores; return its <unk> count.

    Imports the generated train.py and decodes its validation targets with its vocabulary.
    """
    train = load_generated(code, "train")
    runtime = sys.modules[train.run_train.__module__]  # <backend>_train_runtime, its reader
    dataset = runtime.load_data(runtime.parse_args(train.TASK, ["--data", str(data)]), train.TASK)
    targets = [int(i) for i in dataset.val["y"].ravel()]
    vocab = dataset.vocab
    unknown = sum(1 for i in targets if i == 0)
    expected = "".join(ch if ch in vocab else vocab[0] for ch in scored)
    if runtime.decode(targets, vocab, train.TASK.level) != expected:
        raise SystemExit("the held-out text differs from what train.py scores")
    return unknown


def plot(path: Path, stages: list[dict], base: dict) -> None:
    """Held-out bits per character after each stage, with the compressors' as lines."""
    plt = pyplot()

    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    ax.plot([s["step"] for s in stages], [s["bpc"] for s in stages], "o-", color="C0",
            label="LSTM (held-out)")
    styles = {"gzip": "C3", "xz": "C2"}
    for name, color in styles.items():
        ax.axhline(base[name]["alone"], color=color, ls="--", label=f"{name} -9 alone")
        ax.axhline(base[name]["after_train"], color=color, ls=":",
                   label=f"{name} -9 after the training text")
    ax.set(xlabel="training step", ylabel="bits per character",
           title="held-out bits per character")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def shared_fraction(train_text: str, scored: str, width: int = 40) -> float:
    """The fraction of scored characters inside a `width`-character string of the training text.

    What a compressor that has read the training text can copy instead of predict.
    """
    seen = {hash(train_text[i : i + width]) for i in range(len(train_text) - width + 1)}
    covered = bytearray(len(scored))
    for i in range(len(scored) - width + 1):
        if hash(scored[i : i + width]) in seen:
            covered[i : i + width] = b"\x01" * width
    return sum(covered) / max(len(scored), 1)


def compare(bpc: float, base: dict, shared: float, steps: int, stateful: bool) -> str:
    """Sentences placing the model's held-out bpc among the compressors' (from the numbers)."""
    names = {("gzip", "alone"): "`gzip -9` alone", ("gzip", "after_train"): "`gzip -9` after "
             "the training text", ("xz", "alone"): "`xz -9` alone", ("xz", "after_train"):
             "`xz -9` after the training text"}
    beaten = [label for (name, kind), label in names.items() if bpc < base[name][kind]]
    ahead = [label for (name, kind), label in names.items() if bpc >= base[name][kind]]
    text = f"The model's {bpc:.3f} bits per character "
    text += f"beat {', '.join(beaten)}" if beaten else "beat none of the compressors"
    if ahead:
        text += f"; {', '.join(ahead)} did better"
    text += (f". {shared:.0%} of the held-out characters lie inside 40-character strings that "
             "occur verbatim in the training text: xz, having read the training text, copies "
             "them from anywhere in its 64 MiB window (gzip only from the last 32 KiB), while "
             + (f"the model carries its state from row to row of {steps} characters.\n"
                if stateful else
                f"the model reads each row of {steps} characters from a zero state.\n"))
    return text


def fence(text: str) -> str:
    """A fenced code block (longer fences if the text holds backticks)."""
    ticks = "```"
    while ticks in text:
        ticks += "`"
    return f"{ticks}\n{text}\n{ticks}\n"


def options(parser) -> None:
    """The demo's own flags: stateful training, and a smaller budget."""
    parser.add_argument("--stateful", action="store_true",
                        help="train with training.stateful: true (the state carried from row "
                             "to row of each of batch-size streams, as in char-rnn)")
    parser.add_argument("--steps", type=int, default=None,
                        help="end after this many steps, every stage scaled to it (default: "
                             "the full budget's 1800)")


def scaled(stages: list, steps: int | None) -> list:
    """The stages (cumulative steps, lr) shrunk in proportion to end at `steps`."""
    if steps is None:
        return stages
    last = stages[-1][0]
    return [(max(1, round(end * steps / last)), lr) for end, lr in stages]


def stateful_spec(demo, stem: str) -> Path:
    """A copy of the spec with training.stateful: true, next to the demo's compiled code."""
    spec = yaml.safe_load(demo.spec(stem).read_text(encoding="utf-8"))
    spec["training"]["stateful"] = True
    path = demo.out / f"{stem}_stateful.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> None:
    demo, flags = parse("char_lm", __doc__.splitlines()[0], argv, extra=options)
    size = dict(QUICK if demo.quick else FULL)
    size["stages"] = scaled(size["stages"], flags.steps)
    data = demo.out / "data" / "char_lm.txt" if demo.quick else DATA / "char_lm.txt"
    text = make_data(data, size["chars"])
    spec = yaml.safe_load(demo.spec(STEM).read_text(encoding="utf-8"))
    split, steps = spec["data"]["split"], spec["data"]["sequence_length"]
    vocab_size = spec["model"]["input"]["vocab_size"]
    train_text, scored = held_out_text(text, split.get("validation", 0.0),
                                       split.get("test", 0.0), steps)
    base = baselines(train_text, scored)
    shared = shared_fraction(train_text, scored)
    print(f"corpus {len(text):,} chars: train {len(train_text):,}, held out {len(scored):,}; "
          + ", ".join(f"{k} {v['alone']:.3f}/{v['after_train']:.3f}" for k, v in base.items()))

    code = demo.compile(STEM, spec=stateful_spec(demo, STEM) if flags.stateful else None)
    unknown = check_scored(code, data, scored)
    common = ["--data", str(data), "--batch-size", str(size["batch"]), "--epochs", "1000"]
    stages = []
    spec_lr = spec["training"]["learning_rate"]
    for i, (max_steps, lr) in enumerate(size["stages"]):
        resume = ["--resume"] if i else []
        result = demo.train(code, "lm", *common, "--max-steps", str(max_steps),
                            "--lr", str(lr or spec_lr), *resume)
        sample = demo.sample(code, "lm", "--sample", str(size["length"]), "--prime", PRIME,
                             "--temperature", str(STAGE_TEMPERATURE))[:-1]  # print()'s newline
        stages.append({"step": result["step"], "lr": lr or spec_lr, "bpc": result["val_bpc"],
                       "train_bpc": result.get("train_loss", math.nan) / math.log(2),
                       "chars_seen": result["step"] * size["batch"] * steps,
                       "seconds": result["seconds"], "sample": sample})
        print(f"stage {i + 1}: step {result['step']}, held-out bpc {result['val_bpc']:.3f}")
    generations = []
    for label, temperature, top_k in GENERATIONS:
        sample = demo.sample(code, "lm", "--sample", str(size["length"]), "--prime", PRIME,
                             "--temperature", str(temperature), "--top-k", str(top_k))
        generations.append({"label": label, "temperature": temperature, "top_k": top_k,
                            "text": sample[:-1]})

    plot(demo.png(STEM), stages, base)
    final = stages[-1]["bpc"]
    train_seconds = sum(s["seconds"] for s in stages)
    rows = [["LSTM 2x256 (this spec), after the last stage", f"{final:.3f}"]]
    for name in ("gzip", "xz"):
        rows.append([f"`{name} -9`, the held-out text alone", f"{base[name]['alone']:.3f}"])
        rows.append([f"`{name} -9`, after the training text", f"{base[name]['after_train']:.3f}"])
    rows.append(["uniform over the vocabulary", f"{math.log2(vocab_size):.3f}"])
    stage_rows = [[i + 1, s["step"], s["lr"], f"{s['chars_seen']:,}", f"{s['train_bpc']:.3f}",
                   f"{s['bpc']:.3f}", f"{s['seconds']:.0f}"] for i, s in enumerate(stages)]
    reading = ("read statefully: each row starts from the final state of the row before it, "
               f"in {size['batch']} continuous streams" if flags.stateful
               else "each from a zero state")
    md = [
        "# Character-level language model on Python's own source\n",
        f"`examples/demos/char_lm.yaml` (embedding 64, 2 stacked LSTMs of 256, softmax over "
        f"{vocab_size} classes) trained with the generated {demo.backend} `train.py` on "
        f"{len(text):,} characters of standard-library source ({len(MODULES)} modules, "
        f"printable ASCII and newlines). The last {split.get('validation', 0):.1%} of the text "
        f"is held out: the model is scored on its {len(scored):,} next characters (rows of "
        f"{steps}, {reading}; {unknown} `<unk>`), and the same characters are "
        "compressed with `gzip -9` and `xz -9`, alone and after the training text "
        "(bits(train + held-out) - bits(train)).\n",
        table(["held-out text", "bits per character"], rows),
        compare(final, base, shared, steps, flags.stateful),
        f"\n![held-out bits per character](./{STEM}.png)\n",
        "\n## Train more\n",
        f"Each stage resumes the run (`train.py --max-steps N --lr LR --resume`, Adam, batch "
        f"{size['batch']} rows of {steps} characters, truncated BPTT every "
        f"{spec['training']['tbptt']}); train bpc is the running loss of the current epoch. "
        f"Samples: {size['length']} characters after the prime `{PRIME}`, "
        f"temperature {STAGE_TEMPERATURE} (`train.py --sample {size['length']} --prime "
        f"'{PRIME}' --temperature {STAGE_TEMPERATURE}`, seed 0: the same random draws at "
        "every stage). Seconds are each stage's wall time, starting train.py and scoring the "
        "held-out text included.\n",
        table(["stage", "steps", "lr", "characters trained on", "train bpc", "held-out bpc",
               "seconds"], stage_rows),
    ]
    for i, s in enumerate(stages):
        md.append(f"\nAfter stage {i + 1} ({s['step']} steps, held-out bpc {s['bpc']:.3f}):\n")
        md.append(fence(s["sample"]))
    md.append("\n## Generation\n")
    md.append(f"The final model continues `{PRIME}` for {size['length']} characters "
              "(`train.py --sample N --prime P --temperature T --top-k K`; temperature 0 is "
              "argmax, top-k samples among the k likeliest characters, seed 0; temperature 0.8 "
              "is the last stage's sample above).\n")
    for g in generations:
        md.append(f"\n{g['label']} (`--temperature {g['temperature']} --top-k {g['top_k']}`):\n")
        md.append(fence(g["text"]))
    numbers = {
        "corpus_chars": len(text), "train_chars": len(train_text), "held_out_chars": len(scored),
        "unknown_chars": unknown, "vocab_size": vocab_size, "modules": MODULES,
        "baselines_bpc": base, "final_bpc": final,
        "held_out_shared_40": shared, "uniform_bpc": math.log2(vocab_size),
        "stages": stages, "generations": generations, "prime": PRIME,
        "train_seconds": round(train_seconds, 1), "backend": demo.backend,
        "stateful": flags.stateful,
    }
    demo.finish("\n".join(part.strip("\n") + "\n" for part in md), numbers)


if __name__ == "__main__":
    main()
