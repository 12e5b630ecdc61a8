"""Downloads for real, through pooch, from a loopback HTTP server laid out like a data folder."""

import functools
import http.server
import shutil
import threading

import numpy as np
import pytest

from course_lib.data import DATASETS, DataError, load_mnist, load_ptb, locate


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def serve():
    """``serve(folder)`` starts a server on 127.0.0.1 for ``folder`` and returns its base URL."""
    servers = []

    def start(folder):
        handler = functools.partial(_QuietHandler, directory=str(folder))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    """Network allowed, no COURSE_DATA, and an empty user cache in tmp_path/cache."""
    for var in ("COURSE_DATA", "COURSE_OFFLINE", "COURSE_DATA_MIRROR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("COURSE_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_download_verifies_and_loads(data_dir, serve, empty_cache, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_MIRROR", serve(data_dir))
    path = locate("ptb-test", download=True)
    assert path == empty_cache / "text" / "ptb.test.txt"
    assert path.read_bytes() == (data_dir / "text" / "ptb.test.txt").read_bytes()
    assert len(load_ptb("test")) == 82_430
    m = load_mnist()  # four .gz files, verified by their decompressed content
    assert m.x_train.shape == (60000, 784) and np.bincount(m.y_test).sum() == 10000
    assert (empty_cache / DATASETS["mnist-train-images"].path).is_file()


def test_download_into_an_explicit_data_dir(data_dir, serve, empty_cache, tmp_path):
    target = tmp_path / "mine"
    path = locate("questions-words", target, mirror=serve(data_dir))
    assert path == target / "word2vec" / "questions-words.txt"
    assert not empty_cache.exists()


def test_corrupt_download_is_refused_and_deleted(data_dir, serve, empty_cache, tmp_path):
    bad = tmp_path / "bad-mirror" / "text" / "ptb.test.txt"
    bad.parent.mkdir(parents=True)
    shutil.copyfile(data_dir / "text" / "ptb.test.txt", bad)
    with open(bad, "r+b") as f:
        f.seek(100)
        f.write(b"XXXX")
    with pytest.raises(DataError) as err:
        locate("ptb-test", mirror=serve(tmp_path / "bad-mirror"))
    assert DATASETS["ptb-test"].digest in str(err.value) and "127.0.0.1" in str(err.value)
    assert not (empty_cache / "text" / "ptb.test.txt").exists()


def test_missing_on_the_server_is_a_data_error(serve, empty_cache, tmp_path):
    (tmp_path / "empty-mirror").mkdir()
    with pytest.raises(DataError, match="404"):
        locate("ptb-valid", mirror=serve(tmp_path / "empty-mirror"))


def test_offline_forbids_even_an_explicit_download(data_dir, serve, empty_cache, monkeypatch):
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    with pytest.raises(DataError, match="COURSE_OFFLINE"):
        locate("ptb-test", download=True, mirror=serve(data_dir))
    assert not empty_cache.exists()


def test_upstream_aozora_zip_is_converted_to_the_checked_utf8_text(
    data_dir, serve, empty_cache, tmp_path, monkeypatch
):
    """Aozora serves Shift_JIS with CRLF in a zip; the download converts it and checks the
    result."""
    import zipfile
    from dataclasses import replace

    from course_lib.data import load_text

    text = (data_dir / "text" / "wagahaiwa_nekodearu.txt").read_text(encoding="utf-8-sig")
    site = tmp_path / "aozora"
    site.mkdir()
    with zipfile.ZipFile(site / "789_ruby_5639.zip", "w") as z:
        z.writestr("wagahaiwa_nekodearu.txt", text.replace("\n", "\r\n").encode("cp932"))
    url = serve(site) + "/789_ruby_5639.zip"
    entry = replace(DATASETS["wagahaiwa_nekodearu"], urls=(url,))
    monkeypatch.setitem(DATASETS, "wagahaiwa_nekodearu", entry)
    assert load_text("wagahaiwa_nekodearu").startswith("一\n")
    assert list((empty_cache / "text").iterdir()) == [empty_cache / entry.path]  # the zip is gone


def test_a_failed_download_names_the_folders_searched_as_absolute_paths(
    serve, empty_cache, tmp_path, monkeypatch
):
    (tmp_path / "empty-mirror").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(
        "COURSE_DATA", "relative/data"
    )  # a relative COURSE_DATA, as typed in a shell
    with pytest.raises(DataError) as err:
        locate("ptb-valid", mirror=serve(tmp_path / "empty-mirror"))
    message = str(err.value)
    assert str(tmp_path / "relative" / "data" / "text" / "ptb.valid.txt") in message
    assert "COURSE_DATA=relative/data" in message and "To fix it" in message
