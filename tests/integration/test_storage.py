"""File storage: local buckets and signed links (also through the /files route), and the Supabase
adapter against a local server that speaks Supabase Storage's REST API."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from starlette.testclient import TestClient

from revoque.adapters.storage import (
    EXPORTS,
    INVOICES,
    LocalStorage,
    MissingFile,
    StorageError,
    SupabaseStorage,
    content_key,
    file_signature,
    get_storage,
    validate_key,
    verify_signed_request,
)
from revoque.api import build_api
from revoque.errors import ConfigError, ValidationError
from tests.conftest import use_settings
from tests.support.fake_supabase import BUCKETS, FakeSupabase, fake_supabase
from tests.support.server import free_port

PDF = b"%PDF-1.4 test invoice"


@pytest.fixture
def local(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LocalStorage:
    use_settings(monkeypatch, data_dir=str(tmp_path / "data"), secret_key="test-secret", supabase_url="")
    storage = get_storage()
    assert isinstance(storage, LocalStorage)
    return storage


def signed_parts(url: str) -> tuple[str, str, dict[str, str]]:
    """``/files/<bucket>/<key>?…`` → bucket, key and the query."""
    parts = urlsplit(url)
    bucket, key = parts.path.removeprefix("/files/").split("/", 1)
    return bucket, key, {name: values[0] for name, values in parse_qs(parts.query).items()}


# --- keys ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        "../x",
        "/etc/passwd",
        "a/../../b",
        "a/..",
        "a\\..\\b",
        "a\\b",
        "a\x00b",
        "a//b",
        "a/./b",
        "a/.hidden",
        "a/",
        "",
        "a b",
        "x" * 301,
    ],
)
def test_keys_that_could_escape_are_refused(local: LocalStorage, key: str) -> None:
    with pytest.raises(ValidationError):
        validate_key(key)
    with pytest.raises(ValidationError):
        local.put(key, b"x", "text/plain", bucket=INVOICES)


def test_ordinary_keys_are_accepted() -> None:
    for key in ("products/kettle/1.jpg", "RVQ-100001/invoice-v2.pdf", "exports/2025-03_orders.csv"):
        assert validate_key(key) == key


def test_content_keys_change_with_the_bytes_only() -> None:
    first = content_key("products/", b"jpeg bytes", ".JPG")
    assert first == content_key("products", b"jpeg bytes", "jpg")
    assert first.startswith("products/") and first.endswith(".jpg")
    assert len(first.rsplit("/", 1)[1]) == 32 + len(".jpg")
    assert content_key("products", b"other bytes", "jpg") != first
    with pytest.raises(ValidationError):
        content_key("products", b"x", "j/pg")


# --- local buckets ---------------------------------------------------------------------------------


def test_local_buckets_keep_files_apart(local: LocalStorage, tmp_path: Path) -> None:
    local.put("products/kettle.jpg", b"jpeg", "image/jpeg")
    local.put("RVQ-1/invoice-v1.pdf", PDF, "application/pdf", bucket=INVOICES)
    data = tmp_path / "data"
    assert (data / "media" / "products" / "kettle.jpg").read_bytes() == b"jpeg"
    assert (data / "files" / "invoices" / "RVQ-1" / "invoice-v1.pdf").read_bytes() == PDF
    assert local.read("RVQ-1/invoice-v1.pdf", bucket=INVOICES) == PDF
    assert local.exists("RVQ-1/invoice-v1.pdf", bucket=INVOICES)
    assert not local.exists("RVQ-1/invoice-v1.pdf", bucket=EXPORTS)
    assert not local.exists("RVQ-1/invoice-v1.pdf")
    assert local.public_url("products/kettle.jpg") == "/media/products/kettle.jpg"
    local.delete("RVQ-1/invoice-v1.pdf", bucket=INVOICES)
    local.delete("RVQ-1/invoice-v1.pdf", bucket=INVOICES)  # already gone: fine
    assert not local.exists("RVQ-1/invoice-v1.pdf", bucket=INVOICES)
    with pytest.raises(MissingFile):
        local.read("RVQ-1/invoice-v1.pdf", bucket=INVOICES)
    with pytest.raises(ValidationError):
        local.put("x.pdf", PDF, "application/pdf", bucket="secrets")
    with pytest.raises(ValidationError):
        local.signed_url("products/kettle.jpg", "images")


# --- signed links ----------------------------------------------------------------------------------


def test_a_signed_link_verifies_until_it_expires(local: LocalStorage) -> None:
    url = local.signed_url("RVQ-1/invoice-v1.pdf", INVOICES, expires_in=60)
    bucket, key, query = signed_parts(url)
    assert (bucket, key) == (INVOICES, "RVQ-1/invoice-v1.pdf")
    expires = int(query["expires"])
    assert time.time() + 55 < expires <= time.time() + 61
    assert verify_signed_request(bucket, key, query["expires"], query["sig"])
    assert verify_signed_request(bucket, key, expires, query["sig"], now=expires)
    assert not verify_signed_request(bucket, key, expires, query["sig"], now=expires + 1)


def test_the_default_lifetime_comes_from_settings(local: LocalStorage, monkeypatch: pytest.MonkeyPatch) -> None:
    use_settings(monkeypatch, signed_url_seconds="120")
    _, _, query = signed_parts(get_storage().signed_url("a.pdf", INVOICES))
    assert abs(int(query["expires"]) - (time.time() + 120)) <= 2


def test_tampered_signed_links_are_refused(local: LocalStorage) -> None:
    bucket, key, query = signed_parts(local.signed_url("RVQ-1/invoice-v1.pdf", INVOICES))
    expires, sig = query["expires"], query["sig"]
    assert not verify_signed_request(bucket, "RVQ-2/invoice-v1.pdf", expires, sig)
    assert not verify_signed_request(EXPORTS, key, expires, sig)
    assert not verify_signed_request("images", key, expires, sig)
    assert not verify_signed_request(bucket, key, str(int(expires) + 3600), sig)
    assert not verify_signed_request(bucket, key, expires, sig[:-1] + ("0" if sig[-1] != "0" else "1"))
    assert not verify_signed_request(bucket, key, expires, "")
    assert not verify_signed_request(bucket, key, "soon", sig)
    assert not verify_signed_request(bucket, "../" + key, expires, sig)


def test_signatures_depend_on_the_secret_key(local: LocalStorage, monkeypatch: pytest.MonkeyPatch) -> None:
    bucket, key, query = signed_parts(local.signed_url("a.pdf", INVOICES))
    use_settings(monkeypatch, secret_key="another-secret")
    assert not verify_signed_request(bucket, key, query["expires"], query["sig"])


# --- the /files route ------------------------------------------------------------------------------


@pytest.fixture
def client(local: LocalStorage) -> Iterator[TestClient]:
    with TestClient(build_api()) as test_client:
        yield test_client


def test_files_route_serves_a_validly_signed_file(local: LocalStorage, client: TestClient) -> None:
    local.put("RVQ-1/invoice-v1.pdf", PDF, "application/pdf", bucket=INVOICES)
    response = client.get(local.signed_url("RVQ-1/invoice-v1.pdf", INVOICES))
    assert response.status_code == 200
    assert response.content == PDF
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["cache-control"] == "private, no-store"
    assert "content-disposition" not in response.headers


def test_files_route_downloads_under_a_friendly_name(local: LocalStorage, client: TestClient) -> None:
    local.put("RVQ-1/invoice-v1.pdf", PDF, "application/pdf", bucket=INVOICES)
    response = client.get(local.signed_url("RVQ-1/invoice-v1.pdf", INVOICES, download="INV-RVQ-1.pdf"))
    assert response.status_code == 200
    assert response.headers["content-disposition"] == 'attachment; filename="INV-RVQ-1.pdf"'
    url = local.signed_url("RVQ-1/invoice-v1.pdf", INVOICES, download='../"evil"\r\nX: y.pdf')
    disposition = client.get(url).headers["content-disposition"]
    assert disposition == 'attachment; filename="evil-X-y.pdf"'


def test_files_route_refuses_expired_and_tampered_links(local: LocalStorage, client: TestClient) -> None:
    local.put("RVQ-1/invoice-v1.pdf", PDF, "application/pdf", bucket=INVOICES)
    local.put("RVQ-2/invoice-v1.pdf", PDF, "application/pdf", bucket=INVOICES)
    bucket, key, query = signed_parts(local.signed_url("RVQ-1/invoice-v1.pdf", INVOICES))
    expired = int(time.time()) - 1
    refused = [
        f"/files/{bucket}/{key}?expires={expired}&sig={file_signature(bucket, key, expired)}",
        f"/files/{bucket}/RVQ-2/invoice-v1.pdf?expires={query['expires']}&sig={query['sig']}",
        f"/files/{bucket}/{key}?expires={int(query['expires']) + 1}&sig={query['sig']}",
        f"/files/{bucket}/{key}?expires={query['expires']}&sig=00",
        f"/files/{bucket}/{key}",
    ]
    for url in refused:
        response = client.get(url)
        assert response.status_code == 403, url
        assert response.headers["cache-control"] == "private, no-store"


def test_files_route_answers_404_for_missing_files_and_other_buckets(local: LocalStorage, client: TestClient) -> None:
    assert client.get(local.signed_url("RVQ-9/invoice-v1.pdf", INVOICES)).status_code == 404
    local.put("products/kettle.jpg", b"jpeg", "image/jpeg")
    assert client.get("/files/images/products/kettle.jpg").status_code == 404
    assert client.get("/files/secrets/x.pdf").status_code == 404


def test_files_route_refuses_traversal(local: LocalStorage, client: TestClient, tmp_path: Path) -> None:
    (tmp_path / "data").mkdir(exist_ok=True)
    (tmp_path / "data" / "secret.txt").write_text("secret")
    for path in ("/files/invoices/..%2F..%2Fsecret.txt", "/files/invoices/%2Fetc%2Fpasswd"):
        assert client.get(path).status_code in (403, 404)


# --- choosing a backend ----------------------------------------------------------------------------


def test_supabase_needs_both_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    use_settings(monkeypatch, data_dir=str(tmp_path), supabase_url="https://abcd.supabase.co", supabase_service_key="")
    with pytest.raises(ConfigError, match="SUPABASE_SERVICE_KEY"):
        get_storage()
    use_settings(monkeypatch, supabase_service_key="service-key")
    storage = get_storage()
    assert isinstance(storage, SupabaseStorage)
    assert (
        storage.public_url("products/a.jpg")
        == "https://abcd.supabase.co/storage/v1/object/public/images/products/a.jpg"
    )


# --- Supabase Storage ------------------------------------------------------------------------------


@pytest.fixture
def supabase(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[SupabaseStorage, FakeSupabase]]:
    with fake_supabase() as server:
        use_settings(
            monkeypatch, data_dir=str(tmp_path), supabase_url=server.url, supabase_service_key=server.service_key
        )
        storage = get_storage()
        assert isinstance(storage, SupabaseStorage)
        yield storage, server


def test_supabase_upload_download_and_delete(supabase: tuple[SupabaseStorage, FakeSupabase]) -> None:
    storage, server = supabase
    storage.put("RVQ-1/invoice-v1.pdf", PDF, "application/pdf", bucket=INVOICES)
    assert server.objects[(INVOICES, "RVQ-1/invoice-v1.pdf")].content_type == "application/pdf"
    storage.put("RVQ-1/invoice-v1.pdf", PDF + b"!", "application/pdf", bucket=INVOICES)  # upsert
    assert storage.read("RVQ-1/invoice-v1.pdf", bucket=INVOICES) == PDF + b"!"
    assert storage.exists("RVQ-1/invoice-v1.pdf", bucket=INVOICES)
    assert not storage.exists("RVQ-1/invoice-v1.pdf", bucket=EXPORTS)
    storage.delete("RVQ-1/invoice-v1.pdf", bucket=INVOICES)
    storage.delete("RVQ-1/invoice-v1.pdf", bucket=INVOICES)  # already gone: fine
    assert not storage.exists("RVQ-1/invoice-v1.pdf", bucket=INVOICES)
    with pytest.raises(MissingFile):
        storage.read("RVQ-1/invoice-v1.pdf", bucket=INVOICES)


def test_supabase_public_images(supabase: tuple[SupabaseStorage, FakeSupabase]) -> None:
    storage, server = supabase
    key = content_key("products", b"jpeg", "jpg")
    storage.put(key, b"jpeg", "image/jpeg")
    url = storage.public_url(key)
    assert url == f"{server.url}/storage/v1/object/public/images/{key}"
    response = httpx.get(url)
    assert (response.status_code, response.content) == (200, b"jpeg")


def test_supabase_signed_links_fetch_the_file(supabase: tuple[SupabaseStorage, FakeSupabase]) -> None:
    storage, _ = supabase
    storage.put("RVQ-1/invoice-v1.pdf", PDF, "application/pdf", bucket=INVOICES)
    url = storage.signed_url("RVQ-1/invoice-v1.pdf", INVOICES, expires_in=60, download="INV-RVQ-1.pdf")
    response = httpx.get(url)  # no service key: the token alone grants access
    assert response.status_code == 200
    assert response.content == PDF
    assert response.headers["content-disposition"] == 'attachment; filename="INV-RVQ-1.pdf"'
    assert httpx.get(url.replace("invoice-v1", "invoice-v2")).status_code == 400
    with pytest.raises(MissingFile):
        storage.signed_url("RVQ-1/missing.pdf", INVOICES)


def test_supabase_wrong_key_is_a_storage_error(supabase: tuple[SupabaseStorage, FakeSupabase]) -> None:
    _, server = supabase
    storage = SupabaseStorage(server.url, "not-the-service-key")
    with pytest.raises(StorageError, match=r"refused to upload invoices/a\.pdf") as raised:
        storage.put("a.pdf", PDF, "application/pdf", bucket=INVOICES)
    assert "not-the-service-key" not in str(raised.value)
    with pytest.raises(StorageError, match="invalid signature"):
        storage.read("a.pdf", bucket=INVOICES)
    with pytest.raises(StorageError):
        storage.exists("a.pdf", bucket=INVOICES)


def test_supabase_down_is_a_storage_error() -> None:
    storage = SupabaseStorage(f"http://127.0.0.1:{free_port()}", "service-key")
    with pytest.raises(StorageError, match=r"cannot be reached to upload invoices/a\.pdf"):
        storage.put("a.pdf", PDF, "application/pdf", bucket=INVOICES)
    with pytest.raises(StorageError, match="cannot be reached"):
        storage.signed_url("a.pdf", INVOICES)


def test_supabase_timeouts_are_a_storage_error() -> None:
    def hang(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    storage = SupabaseStorage("https://abcd.supabase.co", "service-key", transport=httpx.MockTransport(hang))
    with pytest.raises(StorageError, match=r"did not answer in time when asked to download invoices/a\.pdf"):
        storage.read("a.pdf", bucket=INVOICES)


def test_supabase_missing_bucket_says_so(
    supabase: tuple[SupabaseStorage, FakeSupabase], monkeypatch: pytest.MonkeyPatch
) -> None:
    storage, _ = supabase
    monkeypatch.delitem(BUCKETS, EXPORTS)
    with pytest.raises(StorageError, match="no exports bucket: create it \\(private\\)"):
        storage.put("orders.csv", b"a,b", "text/csv", bucket=EXPORTS)
