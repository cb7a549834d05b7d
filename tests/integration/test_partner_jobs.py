"""Large listing syncs: a JSON Lines upload becomes a job that `flask worker` processes in chunks."""
from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from catalog.models import Product
from marketplace.kernel import clock, idempotency
from marketplace.kernel.extensions import db
from marketplace.kernel.idempotency import IdempotencyRecord
from marketplace.partners.models import ListingSyncJob
from marketplace.partners.routes import JOB_FINGERPRINT_LABEL
from tests.api.test_partner_listings import LISTINGS, listing
from tests.api.test_products import assert_problem

JOBS = f"{LISTINGS}/jobs"


def ndjson(*items) -> bytes:
    return b"\n".join(item if isinstance(item, bytes) else json.dumps(item).encode() for item in items) + b"\n"


def upload(client, partner: dict, body: bytes, content_type: str = "application/x-ndjson", key: str | None = None):
    headers = {**partner["headers"], **({"Idempotency-Key": key} if key else {})}
    return client.post(JOBS, data=body, content_type=content_type, headers=headers)


def job_ids(client, partner: dict) -> list[int]:
    response = client.get(JOBS, headers=partner["headers"])
    assert response.status_code == 200, response.get_json()
    return [j["id"] for j in response.get_json()["items"]]


def job(client, partner: dict, job_id: int, **params) -> dict:
    response = client.get(f"{JOBS}/{job_id}", query_string=params, headers=partner["headers"])
    assert response.status_code == 200, response.get_json()
    return response.get_json()


@pytest.fixture
def vendor(make):
    make.rates()
    return make.vendor("IN")


@pytest.fixture
def partner(make, vendor):
    return make.partner(vendors=[vendor])


@pytest.fixture
def small_chunks(app):
    saved = app.config["PARTNER_JOB_CHUNK"]
    app.config["PARTNER_JOB_CHUNK"] = 4
    yield 4
    app.config["PARTNER_JOB_CHUNK"] = saved


def test_a_job_is_stored_then_processed_by_the_worker_in_chunks(app, client, runner, vendor, partner, small_chunks):
    lines = [listing(vendor, f"J{i}") for i in range(9)]
    body = ndjson(*lines[:4]) + b"\n   \n" + ndjson(*lines[4:])       # blank lines are skipped

    response = upload(client, partner, body)

    assert response.status_code == 202
    created = response.get_json()
    assert created["status"] == "pending" and created["total"] == 9 and created["processed"] == 0
    assert job(client, partner, created["id"])["results"] == []

    result = runner.invoke(args=["worker", "--once"])

    assert result.exit_code == 0, result.output
    done = job(client, partner, created["id"])
    assert done["status"] == "completed" and done["processed"] == 9
    assert done["counts"] == {"created": 9, "updated": 0, "unchanged": 0, "stale": 0, "error": 0}
    assert [r["line"] for r in done["results"]] == [1, 2, 3, 4, 7, 8, 9, 10, 11]
    assert {r["status"] for r in done["results"]} == {"created"} and all(r["product_id"] for r in done["results"])
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Product)) == 9
        db.session.remove()


def test_job_results_report_each_lines_outcome_and_paginate(client, runner, make, vendor, partner):
    stranger = make.vendor("BR")
    existing = listing(vendor, "K0")
    client.put(LISTINGS, json={"listings": [existing]}, headers=partner["headers"])
    body = ndjson(existing, listing(vendor, "K1"), b"{not json", listing(stranger, "K2"),
                  listing(vendor, "K3", hs_code="1"), b"[1, 2]")
    job_id = upload(client, partner, body).get_json()["id"]
    runner.invoke(args=["worker", "--once"])

    done = job(client, partner, job_id)

    assert done["counts"] == {"created": 1, "updated": 0, "unchanged": 1, "stale": 0, "error": 4}
    by_line = {r["line"]: r for r in done["results"]}
    assert by_line[1]["status"] == "unchanged" and by_line[2]["status"] == "created"
    assert by_line[3]["code"] == "invalid_line" and by_line[3]["errors"] == {"body": ["This line is not valid JSON."]}
    assert by_line[4]["code"] == "vendor_not_authorized" and by_line[4]["external_id"] == "K2"
    assert "hs_code" in by_line[5]["errors"]
    assert by_line[6]["code"] == "invalid_line"
    assert by_line[6]["errors"] == {"body": ["Each line must be one JSON object (a listing)."]}
    errors = job(client, partner, job_id, status="error", per_page=2)
    assert errors["results_total"] == 4 and [r["line"] for r in errors["results"]] == [3, 4]
    assert [r["line"] for r in job(client, partner, job_id, status="error", per_page=2, page=2)["results"]] == [5, 6]
    assert_problem(client.get(f"{JOBS}/{job_id}", query_string={"per_page": 1001}, headers=partner["headers"]), 422,
                   field="per_page")


def test_a_partner_never_sees_another_partners_job(client, make, vendor, partner):
    job_id = upload(client, partner, ndjson(listing(vendor))).get_json()["id"]
    other = make.partner()
    assert_problem(client.get(f"{JOBS}/{job_id}", headers=other["headers"]), 404, "sync_job_not_found")
    assert client.get(JOBS, headers=other["headers"]).get_json()["items"] == []
    assert [j["id"] for j in client.get(JOBS, headers=partner["headers"]).get_json()["items"]] == [job_id]


def test_uploads_must_be_json_lines_and_not_empty(client, vendor, partner):
    body = ndjson(listing(vendor))
    assert_problem(upload(client, partner, body, "application/json"), 415, field="Content-Type")
    assert upload(client, partner, body, "application/jsonl").status_code == 202
    assert_problem(upload(client, partner, b"\n\n"), 422, "empty_sync_job", field="body")
    assert_problem(upload(client, partner, b'{"a": "\xff"}\n'), 422, "invalid_line", field="body")


def test_too_many_lines_or_bytes_are_413(app, client, vendor, partner):
    saved = app.config["PARTNER_JOB_MAX_LINES"], app.config["PARTNER_JOB_MAX_BYTES"]
    app.config["PARTNER_JOB_MAX_LINES"] = 3
    try:
        assert_problem(upload(client, partner, ndjson(*[listing(vendor) for _ in range(4)])), 413,
                       "too_many_listings")
        assert upload(client, partner, ndjson(*[listing(vendor) for _ in range(3)])).status_code == 202
        app.config["PARTNER_JOB_MAX_BYTES"] = 100
        assert_problem(upload(client, partner, ndjson(listing(vendor))), 413)
    finally:
        app.config["PARTNER_JOB_MAX_LINES"], app.config["PARTNER_JOB_MAX_BYTES"] = saved


def test_a_job_body_may_exceed_the_usual_body_limit(app, client, runner, vendor, partner):
    description = "x" * 4000
    lines = [listing(vendor, f"big-{i}", translations={"en": {"title": "Tea", "description": description}})
             for i in range(300)]
    body = ndjson(*lines)
    assert len(body) > app.config["MAX_CONTENT_LENGTH"]

    response = upload(client, partner, body)

    assert response.status_code == 202 and response.get_json()["total"] == 300
    runner.invoke(args=["worker", "--once"])
    assert job(client, partner, response.get_json()["id"])["counts"]["created"] == 300


# -- Idempotency-Key ---------------------------------------------------------

def test_the_same_idempotency_key_and_body_replays_the_same_job(client, vendor, partner):
    body = ndjson(listing(vendor, "I1"), listing(vendor, "I2"))

    first = upload(client, partner, body, key="job-1")
    again = upload(client, partner, body, key="job-1")

    assert first.status_code == again.status_code == 202
    assert again.get_json() == first.get_json() and first.get_json()["total"] == 2
    assert job_ids(client, partner) == [first.get_json()["id"]]


def test_an_idempotency_key_reused_with_another_body_is_422(client, vendor, partner):
    first = upload(client, partner, ndjson(listing(vendor, "I1")), key="job-1")

    response = upload(client, partner, ndjson(listing(vendor, "I1", stock=3)), key="job-1")

    assert_problem(response, 422, "idempotency_key_reused", field="Idempotency-Key")
    assert job_ids(client, partner) == [first.get_json()["id"]]
    # byte for byte: the same listings with other whitespace are another body
    assert_problem(upload(client, partner, ndjson(listing(vendor, "I1")) + b"\n", key="job-1"), 422,
                   "idempotency_key_reused")


def test_without_an_idempotency_key_each_upload_is_a_new_job(client, vendor, partner):
    body = ndjson(listing(vendor, "I1"))

    first, second = upload(client, partner, body), upload(client, partner, body)

    assert first.status_code == second.status_code == 202
    assert first.get_json()["id"] != second.get_json()["id"]
    assert sorted(job_ids(client, partner)) == sorted([first.get_json()["id"], second.get_json()["id"]])


def test_idempotency_keys_are_per_partner_and_errors_are_replayed(client, make, vendor, partner):
    other = make.partner(vendors=[vendor])
    body = ndjson(listing(vendor, "I1"))

    mine, theirs = upload(client, partner, body, key="job-1"), upload(client, other, body, key="job-1")

    assert mine.get_json()["id"] != theirs.get_json()["id"]
    assert_problem(upload(client, partner, b"\n\n", key="empty"), 422, "empty_sync_job", field="body")
    assert_problem(upload(client, partner, b"\n\n", key="empty"), 422, "empty_sync_job", field="body")
    assert job_ids(client, partner) == [mine.get_json()["id"]]


def _claim_key(app, partner: dict, key: str, body: bytes, locked_for: timedelta, resource_id: int | None = None):
    """As if an earlier upload with `key` and `body` had claimed the key (and holds it for `locked_for`)."""
    moment = clock.now()
    with idempotency.fingerprint_stream(io.BytesIO(body), JOB_FINGERPRINT_LABEL) as (digest, _copy):
        pass
    with app.app_context():
        db.session.add(IdempotencyRecord(scope=f"partner:{partner['id']}", key=key, request_hash=digest,
                                         status="in_progress", locked_until=moment + locked_for,
                                         resource_id=resource_id, expires_at=moment + timedelta(hours=48)))
        db.session.commit()
        db.session.remove()


def test_an_upload_still_in_progress_with_the_same_key_conflicts(app, client, vendor, partner):
    body = ndjson(listing(vendor, "I1"))
    _claim_key(app, partner, "job-1", body, locked_for=timedelta(seconds=30))

    response = upload(client, partner, body, key="job-1")

    assert_problem(response, 409, "idempotency_key_in_progress")
    assert response.headers["Retry-After"] and job_ids(client, partner) == []


def test_a_retry_after_an_upload_died_gives_the_job_it_had_stored(app, client, vendor, partner):
    body = ndjson(listing(vendor, "I1"))
    with app.app_context():  # the first attempt stored its job, then died before answering
        stored = ListingSyncJob(partner_id=partner["id"], total=1)
        db.session.add(stored)
        db.session.commit()
        stored_id = stored.id
        db.session.remove()
    _claim_key(app, partner, "job-1", body, locked_for=-timedelta(seconds=1), resource_id=stored_id)

    response = upload(client, partner, body, key="job-1")

    assert response.status_code == 202 and response.get_json()["id"] == stored_id
    assert job_ids(client, partner) == [stored_id]


def test_openapi_documents_the_idempotency_key_of_job_uploads(client):
    post = client.get("/api/openapi.json").get_json()["paths"]["/api/v1/partner/listings/jobs"]["post"]
    header = next(p for p in post["parameters"] if p["name"] == "Idempotency-Key")
    assert header["in"] == "header" and header["required"] is False
    assert {"202", "409", "422"} <= set(post["responses"])
