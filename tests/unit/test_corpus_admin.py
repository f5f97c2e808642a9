"""Editors' corpus management without a server: name sanitising, type sniffing by content,
atomic writes, the trash (restore, purge after a build), the audit log, session cookies and CSRF
tokens, and the `jaxabot documents` CLI."""

import io
import json
import os
import threading
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.audit import AuditLog
from bot.corpus import Corpus, check_upload, clean_name, relative_name, sniff, write_atomic
from bot.errors import CorpusUnwritable, DocumentExists, DocumentNotFound, UploadRejected, UploadTooLarge
from web.http.sessions import Sessions

MD = "# きぼう\n\n日本実験棟「きぼう」は2009年に完成しました。\n".encode()


def _zip(*names: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name in names:
            z.writestr(name, "<x/>")
    return buf.getvalue()


# ------------------------------------------------------------------------------------- names

@pytest.mark.parametrize("raw, clean", [
    ("report.md", "report.md"),
    ("宇宙開発の歩み.txt", "宇宙開発の歩み.txt"),
    # A Mac sends decomposed kana: stored as NFC.
    ("\u304b\u3099\u3044\u3088\u3046.md", "\u304c\u3044\u3088\u3046.md"),
    ("../../etc/passwd.txt", "passwd.txt"),
    ("C:\\Users\\me\\notes.md", "notes.md"),
    ("/abs/path/x.html", "x.html"),
    (".hidden.md", "hidden.md"),
    ("...md.md", "md.md"),
    ("a\u202egnp.md", "agnp.md"),  # bidi override removed
    ("tab\tand\nnewline.txt", "tab and newline.txt"),
    ('what?<is>"this"|*.md', "what__is__this___.md"),
    ("  spaced  name .txt ", "spaced name.txt"),
    ("Upper.MD", "Upper.MD"),
])
def test_clean_name(raw, clean):
    assert clean_name(raw) == clean


@pytest.mark.parametrize("raw", ["", ".", "..", "...", "/", "noext", ".md", "script.exe", "x.pdf.exe",
                                 "README.md", "readme.MD", "../", "\u202e"])
def test_clean_name_refuses(raw):
    with pytest.raises(UploadRejected):
        clean_name(raw)


def test_clean_name_limits_length_and_keeps_the_suffix():
    name = clean_name("宇" * 300 + ".md")
    assert name.endswith(".md") and len(name) <= 120 and len(name.encode()) <= 240
    assert name.startswith("宇宇")


@pytest.mark.parametrize("name", ["a/../b.md", "../x.md", "/etc/x.md", "a//b.md", ".git/config.md",
                                  "a/.hidden.md", "a\\b.md", "x\x00.md", ""])
def test_relative_name_refuses_traversal(name):
    with pytest.raises(UploadRejected):
        relative_name(name)


def test_relative_name_keeps_subfolders():
    assert relative_name("sub/文書.md").as_posix() == "sub/文書.md"


# ---------------------------------------------------------------------------------- sniffing

@pytest.mark.parametrize("data, kind", [
    (MD, "text"),
    ("日本語のテキスト".encode("cp932"), "text"),
    ("日本語のテキスト".encode("euc_jp"), "text"),
    (b"\xef\xbb\xbf<!DOCTYPE html><html><body>x</body></html>", "html"),
    (b"  <!-- c --><html lang=ja><p>x</p></html>", "html"),
    (b"<p>a fragment is text</p>", "text"),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "pdf"),
    (_zip("[Content_Types].xml", "word/document.xml"), "docx"),
    (_zip("[Content_Types].xml", "ppt/presentation.xml"), "pptx"),
    (_zip("[Content_Types].xml", "xl/workbook.xml"), "xlsx"),
    (_zip("a.txt"), "zip"),
    (b"PK\x03\x04broken", "binary"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "ole"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, "image"),
    (b"\xff\xd8\xff\xe0" + b"JFIF", "image"),
    (b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 50, "binary"),
    (bytes(range(1, 32)) * 20, "binary"),
    (b"\xff\xfe\xfd\xfc" * 100, "binary"),
])
def test_sniff_by_content(data, kind):
    assert sniff(data) == kind


def test_type_is_checked_by_content_not_by_name():
    assert check_upload("ok.md", MD, 10_000) == "ok.md"
    assert check_upload("page.html", b"<!doctype html><html><p>x</p></html>", 10_000) == "page.html"
    assert check_upload("frag.html", b"<p>text</p>", 10_000) == "frag.html"
    with pytest.raises(UploadRejected, match="HTML, but the name ends in .md"):
        check_upload("page.md", b"<!doctype html><html><p>x</p></html>", 10_000)
    # A PDF (or an image, an executable) renamed to .txt is refused, whatever its name says.
    with pytest.raises(UploadRejected, match="PDF"):
        check_upload("renamed.txt", b"%PDF-1.4\n", 10_000)
    with pytest.raises(UploadRejected, match="image"):
        check_upload("photo.md", b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, 10_000)
    with pytest.raises(UploadRejected, match="binary"):
        check_upload("prog.txt", b"\x7fELF" + b"\x00" * 100, 10_000)
    with pytest.raises(UploadRejected, match="empty"):
        check_upload("blank.md", b" \n ", 10_000)
    with pytest.raises(UploadTooLarge):
        check_upload("big.md", b"a" * 10_001, 10_000)


def test_accepted_types_follow_the_ingest_layer(monkeypatch):
    """What the ingest layer reads decides: a PDF upload passes while bot.ingest reads PDFs."""
    import bot.corpus
    assert check_upload("a.pdf", b"%PDF-1.4\n", 10_000) == "a.pdf"
    with pytest.raises(UploadRejected):
        check_upload("a.txt", b"%PDF-1.4\n", 10_000)
    monkeypatch.setattr(bot.corpus, "SUFFIXES", (".txt", ".md"))
    with pytest.raises(UploadRejected):
        check_upload("a.pdf", b"%PDF-1.4\n", 10_000)


# ------------------------------------------------------------------------------ atomic writes

def test_write_atomic_adds_without_clobbering_and_leaves_no_temporary(tmp_path):
    write_atomic(tmp_path, "a.md", b"one", replace=False)
    with pytest.raises(DocumentExists):
        write_atomic(tmp_path, "a.md", b"two", replace=False)
    assert (tmp_path / "a.md").read_bytes() == b"one"
    write_atomic(tmp_path, "a.md", b"three", replace=True)
    assert (tmp_path / "a.md").read_bytes() == b"three"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.md"]


def test_write_atomic_fsyncs_before_the_rename(tmp_path, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (events.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(os, "replace", lambda a, b: (events.append(("replace", Path(a).name.startswith(".upload-"))),
                                                     real_replace(a, b))[1])
    write_atomic(tmp_path, "a.md", b"x", replace=True)
    assert events[0] == "fsync" and events[1] == ("replace", True) and events[-1] == "fsync"


def test_a_reader_sees_the_old_or_the_new_file_never_half(tmp_path):
    old, new = b"a" * 2_000_000, b"b" * 2_000_000
    write_atomic(tmp_path, "x.txt", old, replace=True)
    seen, stop = set(), threading.Event()

    def read():
        while not stop.is_set():
            seen.add((tmp_path / "x.txt").read_bytes()[::100_000])
    reader = threading.Thread(target=read)
    reader.start()
    for i in range(20):
        write_atomic(tmp_path, "x.txt", new if i % 2 == 0 else old, replace=True)
    stop.set()
    reader.join()
    assert seen <= {old[::100_000], new[::100_000]}


def test_a_full_disk_is_a_domain_error_and_leaves_nothing(tmp_path, monkeypatch):
    import errno

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(CorpusUnwritable, match="No space left"):
        write_atomic(tmp_path, "a.md", b"x", replace=False)
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------------------- trash

@pytest.fixture
def corpus(tmp_path) -> Corpus:
    (tmp_path / "corpus").mkdir()
    return Corpus(tmp_path / "corpus", tmp_path / "data", tmp_path / "index", 1_000_000)


def test_add_checks_every_file_before_writing_any(corpus):
    with pytest.raises(UploadRejected, match="PDF"):
        corpus.add([("good.md", MD), ("bad.txt", b"%PDF-1.4\n")])
    assert list(corpus.corpus_dir.iterdir()) == []
    assert corpus.add([("good.md", MD), ("../../sneaky.txt", b"plain text")]) == [("good.md", False),
                                                                                    ("sneaky.txt", False)]
    assert sorted(p.name for p in corpus.corpus_dir.iterdir()) == ["good.md", "sneaky.txt"]
    with pytest.raises(DocumentExists):
        corpus.add([("good.md", MD)])
    assert corpus.add([("good.md", b"new text")], replace=True) == [("good.md", True)]


def test_replace_checks_content_and_refuses_outside_names(corpus):
    corpus.add([("a.md", MD)])
    assert corpus.replace("a.md", b"# new\n\ntext") == "a.md"
    assert (corpus.corpus_dir / "a.md").read_bytes() == b"# new\n\ntext"
    with pytest.raises(UploadRejected):
        corpus.replace("a.md", b"%PDF-1.4\n")
    with pytest.raises(DocumentNotFound):
        corpus.replace("missing.md", MD)
    with pytest.raises(UploadRejected):
        corpus.replace("../outside.md", MD)


def test_delete_moves_to_the_trash_and_restore_puts_it_back(corpus):
    corpus.add([("文書.md", MD)])
    entry = corpus.remove("文書.md", "tester")
    assert not (corpus.corpus_dir / "文書.md").exists()
    assert [e.name for e in corpus.trash()] == ["文書.md"] and entry.deleted_by == "tester"
    assert corpus.restore(entry.id) == "文書.md"
    assert (corpus.corpus_dir / "文書.md").read_bytes() == MD
    assert corpus.trash() == []
    with pytest.raises(DocumentNotFound):
        corpus.restore(entry.id)
    with pytest.raises(DocumentNotFound):
        corpus.restore("../../etc")


def test_restore_refuses_to_overwrite_a_new_file_of_that_name(corpus):
    corpus.add([("a.md", MD)])
    entry = corpus.remove("a.md", "t")
    corpus.add([("a.md", b"another text")])
    with pytest.raises(DocumentExists):
        corpus.restore(entry.id)
    assert (corpus.corpus_dir / "a.md").read_bytes() == b"another text"
    assert [e.id for e in corpus.trash()] == [entry.id]


def test_trash_is_purged_once_a_build_publishes_without_the_file(corpus, tokenizer):
    from fakes import FakeEmbedder

    from bot.store.build import build_index
    corpus.add([("keep.md", MD), ("gone.md", "# 別\n\n削除される文書です。ここに文があります。".encode())])
    build = lambda: build_index(corpus.corpus_dir, corpus.index_dir, FakeEmbedder(), tokenizer,  # noqa: E731
                                max_bytes=1_000_000)
    build()
    rows = {d.name: d for d in corpus.listing().documents}
    assert rows["gone.md"].status == "indexed" and rows["gone.md"].passages >= 1
    entry = corpus.remove("gone.md", "t")
    # Still in the index: restorable.
    assert [(e.id, e.in_index) for e in corpus.trash()] == [(entry.id, True)]
    build()
    assert corpus.trash() == []
    assert not (corpus.data_dir / "trash" / entry.id).exists()
    assert [d.name for d in corpus.listing().documents] == ["keep.md"]


def test_listing_reports_status_and_skip_reasons(corpus, tokenizer):
    from fakes import FakeEmbedder

    from bot.corpus import record_build
    from bot.store.build import build_index
    corpus.add([("a.md", MD)])
    (corpus.corpus_dir / "notes.odt").write_bytes(b"x")
    (corpus.corpus_dir / "empty.txt").write_bytes(b"   ")
    summary = build_index(corpus.corpus_dir, corpus.index_dir, FakeEmbedder(), tokenizer, max_bytes=1_000_000)
    record_build(corpus.data_dir, summary.version, {s.path: s.reason for s in summary.skipped})
    corpus.add([("b.md", MD)])
    rows = {d.name: d for d in corpus.listing().documents}
    assert rows["a.md"].status == "indexed" and rows["a.md"].title == "きぼう" and rows["a.md"].language == "ja"
    assert rows["a.md"].indexed_version == summary.version
    assert rows["notes.odt"].status == "skipped" and "unsupported" in rows["notes.odt"].reason
    assert rows["empty.txt"].status == "skipped" and rows["empty.txt"].reason == "empty file"
    assert rows["b.md"].status == "pending"
    (corpus.corpus_dir / "a.md").unlink()
    rows = {d.name: d for d in corpus.listing().documents}
    assert rows["a.md"].status == "removed"


# -------------------------------------------------------------------------------- audit log

def test_audit_log_appends_and_reads_newest_first(tmp_path):
    log = AuditLog(tmp_path)
    for i in range(5):
        log.record("session abc", "upload", f"f{i}.md")
    with open(tmp_path / "audit.jsonl", "ab") as f:
        f.write(b'{"torn": ')  # a crash mid-line
    log.record("bearer", "delete", "f0.md")
    entries = log.recent(3)
    assert [(e.who, e.action, e.target) for e in entries] == [("bearer", "delete", "f0.md"),
                                                              ("session abc", "upload", "f4.md"),
                                                              ("session abc", "upload", "f3.md")]
    lines = (tmp_path / "audit.jsonl").read_text().splitlines()
    assert len(lines) == 7 and json.loads(lines[0])["target"] == "f0.md" and lines[5] == '{"torn": '


# -------------------------------------------------------------------------- sessions, CSRF

def test_session_cookie_is_signed_and_expires():
    sessions = Sessions("token-1", minutes=10)
    cookie, session = sessions.issue("Hanako", now=1000)
    assert sessions.read(cookie, now=1001) == session
    assert sessions.read(cookie, now=1000 + 601) is None  # expired
    body, sig = cookie.split(".")
    assert sessions.read(body + "." + sig[:-2] + "AA", now=1001) is None  # forged signature
    import base64
    forged = base64.urlsafe_b64encode(json.dumps({"sid": session.sid, "name": "", "exp": 10**10}).encode()).rstrip(b"=")
    assert sessions.read(forged.decode() + "." + sig, now=1001) is None  # changed payload
    assert Sessions("token-2", minutes=10).read(cookie, now=1001) is None  # another token
    for junk in (None, "", "a.b.c", "x" * 5000, "!!!.???"):
        assert sessions.read(junk) is None


def test_logout_revokes_the_session():
    sessions = Sessions("t", minutes=10)
    cookie, session = sessions.issue()
    sessions.revoke(session)
    assert sessions.read(cookie) is None
    other, _ = sessions.issue()
    assert sessions.read(other) is not None


def test_csrf_token_is_per_session():
    sessions = Sessions("t", minutes=10)
    _, a = sessions.issue()
    _, b = sessions.issue()
    assert sessions.csrf_ok(a, sessions.csrf(a))
    assert not sessions.csrf_ok(a, sessions.csrf(b))
    assert not sessions.csrf_ok(a, "") and not sessions.csrf_ok(a, None)
    assert not sessions.csrf_ok(a, "é")  # non-ASCII input is compared, not crashed on


def test_editor_name_is_cleaned():
    sessions = Sessions("t", minutes=10)
    _, s = sessions.issue("<script>花子\u202e</script>" + "x" * 100)
    assert "<" not in s.name and "\u202e" not in s.name and len(s.name) <= 40 and "花子" in s.name


# ------------------------------------------------------------------------------------- CLI

def test_cli_documents_add_list_remove_restore(tmp_path):
    from bot.cli import app
    corpus, data = tmp_path / "corpus", tmp_path / "data"
    corpus.mkdir()
    src = tmp_path / "メモ.md"
    src.write_bytes(MD)
    fake = tmp_path / "fake.txt"
    fake.write_bytes(b"%PDF-1.4\n")
    opts = ["--corpus", str(corpus), "--index", str(tmp_path / "index"), "--data-dir", str(data)]
    runner = CliRunner()
    r = runner.invoke(app, ["documents", "add", str(src), *opts])
    assert r.exit_code == 0 and "added メモ.md" in r.output, r.output
    r = runner.invoke(app, ["documents", "add", str(fake), *opts])
    assert r.exit_code == 1 and "PDF" in r.output
    r = runner.invoke(app, ["documents", "add", str(src), *opts])
    assert r.exit_code == 1 and "already exists" in r.output
    assert runner.invoke(app, ["documents", "add", "--replace", str(src), *opts]).exit_code == 0
    r = runner.invoke(app, ["documents", "list", *opts])
    assert "pending  メモ.md" in r.output
    r = runner.invoke(app, ["documents", "remove", "メモ.md", *opts])
    assert r.exit_code == 0 and not (corpus / "メモ.md").exists()
    entry = json.loads(runner.invoke(app, ["documents", "list", "--json", *opts]).output)["trash"][0]["id"]
    assert runner.invoke(app, ["documents", "restore", entry, *opts]).exit_code == 0
    assert (corpus / "メモ.md").read_bytes() == MD
    actions = [json.loads(line)["action"] for line in (data / "audit.jsonl").read_text().splitlines()]
    assert actions == ["upload", "replace", "delete", "restore"]
