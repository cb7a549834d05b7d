"""Sync jobs isolate what fails: a hostile or failing line is that line's `invalid_line` result (with the
reason), and a job that cannot go on is `failed`; neither ever keeps any partner's other jobs waiting."""
from __future__ import annotations

import json

import pytest

from marketplace.partners import jobs, listings
from tests.integration.test_partner_jobs import job, ndjson, upload
from tests.api.test_partner_listings import listing, partner, vendor  # noqa: F401 (fixtures)


def work(runner) -> None:
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output


def results_by_line(client, partner: dict, job_id: int) -> dict[int, dict]:
    return {r["line"]: r for r in job(client, partner, job_id, per_page=1000)["results"]}


def test_hostile_lines_are_invalid_lines_and_every_queued_job_still_runs(client, runner, make, vendor, partner):
    other = make.partner(vendors=[vendor])
    hostile = [
        b"[" * 100_000 + b"]" * 100_000,                                                   # 1: nested 100,000 deep
        json.dumps({**listing(vendor, "H2"), "stock": int("9" * 4000)}).encode(),          # 2: 4,000 digits
        json.dumps({**listing(vendor, "H3"), "sku": "A\u0000B"}).encode(),                 # 3: a NUL character
        b"[1, 2, 3]",                                                                      # 4: not an object
        b'"a listing"',                                                                    # 5: not an object
        json.dumps({**listing(vendor, "H6"), "attributes": {"x": float("nan")}}).encode(),  # 6: NaN
        b'{"a":' * 40 + b"1" + b"}" * 40,                                                  # 7: 40 deep
        json.dumps(listing(vendor, "ok-1")).encode(),                                      # 8: fine
    ]
    first = upload(client, partner, ndjson(*hostile)).get_json()["id"]
    second = upload(client, other, ndjson(listing(vendor, "theirs"))).get_json()["id"]

    work(runner)

    done = job(client, partner, first)
    assert done["status"] == "completed" and done["processed"] == 8
    assert done["counts"] == {"created": 1, "updated": 0, "unchanged": 0, "stale": 0, "error": 7}
    by_line = results_by_line(client, partner, first)
    assert {n for n, r in by_line.items() if r.get("code") == "invalid_line"} == {1, 2, 3, 4, 5, 6, 7}
    assert "nested deeper" in by_line[1]["errors"]["body"][0]
    assert "digits" in by_line[2]["errors"]["body"][0]
    assert "NUL" in by_line[3]["errors"]["body"][0]
    assert "JSON object" in by_line[4]["errors"]["body"][0] and "JSON object" in by_line[5]["errors"]["body"][0]
    assert "NaN" in by_line[6]["errors"]["body"][0]
    assert "nested deeper" in by_line[7]["errors"]["body"][0]
    assert by_line[8]["status"] == "created"
    assert job(client, other, second)["status"] == "completed"


def test_a_line_whose_processing_fails_is_an_invalid_line_and_the_job_goes_on(client, runner, vendor, partner,
                                                                              monkeypatch):
    real = listings._sync_items

    def failing(session, partner_id, valid, results):
        if any(data["external_id"] == "boom" for _index, data in valid):
            raise RuntimeError("unexpected")
        return real(session, partner_id, valid, results)

    monkeypatch.setattr(listings, "_sync_items", failing)
    job_id = upload(client, partner, ndjson(listing(vendor, "a"), listing(vendor, "boom"),
                                            listing(vendor, "b"))).get_json()["id"]

    work(runner)

    done = job(client, partner, job_id)
    assert done["status"] == "completed" and done["counts"]["created"] == 2 and done["counts"]["error"] == 1
    by_line = results_by_line(client, partner, job_id)
    assert [by_line[n]["status"] for n in (1, 2, 3)] == ["created", "error", "created"]
    assert by_line[2]["code"] == "invalid_line" and "RuntimeError" in by_line[2]["errors"]["body"][0]


def test_a_job_that_cannot_go_on_fails_with_its_reason_and_never_blocks_the_others(client, runner, make, vendor,
                                                                                   partner, monkeypatch):
    other = make.partner(vendors=[vendor])
    broken = upload(client, partner, ndjson(listing(vendor, "x"))).get_json()["id"]
    fine = upload(client, other, ndjson(listing(vendor, "y"))).get_json()["id"]
    real = jobs._job_chunk

    def chunk(session, job_id, partner_id, lines):
        if job_id == broken:
            raise MemoryError("no room")
        return real(session, job_id, partner_id, lines)

    monkeypatch.setattr(jobs, "_job_chunk", chunk)
    monkeypatch.setattr(jobs, "_job_line_by_line", lambda *args: (_ for _ in ()).throw(OSError("disk")))

    work(runner)

    failed = job(client, partner, broken)
    assert failed["status"] == "failed" and "OSError" in failed["error"] and failed["finished_at"]
    assert job(client, other, fine)["status"] == "completed"
    work(runner)  # a failed job is not tried again
    assert job(client, partner, broken)["status"] == "failed"
