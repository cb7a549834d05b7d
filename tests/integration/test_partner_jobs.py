"""Large listing syncs: a JSON Lines upload becomes a job that `flask worker` processes in chunks."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from catalog.models import Product
from marketplace.extensions import db
from tests.api.test_partner_listings import LISTINGS, listing
from tests.api.test_products import assert_problem

JOBS = f"{LISTINGS}/jobs"


def ndjson(*items) -> bytes:
    return b"\n".join(item if isinstance(item, bytes) else json.dumps(item).encode() for item in items) + b"\n"


def upload(client, partner: dict, body: bytes, content_type: str = "application/x-ndjson"):
    return client.post(JOBS, data=body, content_type=content_type, headers=partner["headers"])


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
    assert by_line[6]["errors"] == {"body": ["Each item must be a JSON object."]}
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
