"""The editable service directory: seeded entries, filters, additions, edits, deactivation."""

from __future__ import annotations

import pytest

from app.context import AppContext
from app.core.errors import ConflictError, NotFoundError, ValidationError
from app.core.reference import SERVICE_KINDS, load_service_directory
from app.services import directory as d
from app.services.reference import seeded_service_id
from tests.services.test_caseload import logged, ops, refused

LAC_CHARNWOOD = seeded_service_id("lac-north-charnwood")


def test_the_seeded_directory_is_listed_in_kind_order(ctx: AppContext) -> None:
    with ctx.db.read() as s:
        services = d.list_services(s)
    assert len(services) == len(load_service_directory())
    assert all(x.seeded and x.active for x in services)
    ranks = [SERVICE_KINDS.index(x.kind) for x in services]
    assert ranks == sorted(ranks)
    lac = next(x for x in services if x.id == LAC_CHARNWOOD)
    assert (lac.kind_label, lac.locality) == ("Local Area Coordinator", "North Charnwood")


def test_filters_by_kind_and_locality_keep_services_available_everywhere(ctx: AppContext) -> None:
    with ctx.db.read() as s:
        lacs = d.list_services(s, kind="LAC")
        charnwood = d.list_services(s, locality="North Charnwood")
        with pytest.raises(ValidationError, match="Service kind 'PUB' is not one of"):
            d.list_services(s, kind="PUB")
    assert {x.kind for x in lacs} == {"LAC"} and len(lacs) == 8
    assert [x.id for x in charnwood if x.kind == "LAC"] == [LAC_CHARNWOOD]
    assert any(x.kind == "FIRST_CONTACT_PLUS" and x.locality is None for x in charnwood)


def test_add_service_makes_a_unique_code_and_checks_its_fields(ctx: AppContext) -> None:
    before = ops(ctx)
    with ctx.db.write() as s:
        first = d.add_service(s, kind="BEFRIENDING", name="Tea & Company", locality="Central")
        second = d.add_service(s, kind="BEFRIENDING", name="Tea & company ", contact="0116 000")
    assert ops(ctx) == before + 2
    assert (first.code, second.code) == ("tea-company", "tea-company-2")
    assert not first.seeded and second.locality is None and second.response_days == 5
    refused(
        ctx,
        ValidationError,
        "Unknown locality 'Atlantis'",
        lambda s: d.add_service(s, kind="OTHER", name="X", locality="Atlantis"),
    )
    refused(
        ctx,
        ValidationError,
        "Service name is required",
        lambda s: d.add_service(s, kind="OTHER", name=" "),
    )
    refused(
        ctx,
        ValidationError,
        "Response days must be a whole number from 0 to 60",
        lambda s: d.add_service(s, kind="OTHER", name="X", response_days=90),
    )
    refused(
        ctx,
        ConflictError,
        "already has a service with code 'tea-company'",
        lambda s: d.add_service(s, kind="OTHER", name="X", code="tea-company"),
    )
    refused(
        ctx,
        ValidationError,
        "must be lower-case",
        lambda s: d.add_service(s, kind="OTHER", name="X", code="Tea Co"),
    )


def test_seeded_entries_can_be_edited_and_deactivated(ctx: AppContext) -> None:
    before = ops(ctx)
    with ctx.db.write() as s:
        edited = d.update_service(
            s, service_id=LAC_CHARNWOOD, contact="lac@example.org", response_days=3
        )
        unchanged = d.update_service(s, service_id=LAC_CHARNWOOD, response_days=3)
    assert ops(ctx) == before + 1
    assert edited.seeded and edited.contact == "lac@example.org" and unchanged.response_days == 3
    refused(
        ctx,
        ValidationError,
        "'code' cannot be edited",
        lambda s: d.update_service(s, service_id=LAC_CHARNWOOD, code="x"),
    )
    refused(
        ctx, NotFoundError, "No service", lambda s: d.update_service(s, service_id="nope", name="x")
    )
    with ctx.db.write() as s:
        gone = d.deactivate_service(s, service_id=LAC_CHARNWOOD)
        active_ids = {x.id for x in d.list_services(s)}
        all_ids = {x.id for x in d.list_services(s, active_only=False)}
    assert not gone.active and LAC_CHARNWOOD not in active_ids and LAC_CHARNWOOD in all_ids
    refused(
        ctx,
        ConflictError,
        "already inactive",
        lambda s: d.deactivate_service(s, service_id=LAC_CHARNWOOD),
    )
    with ctx.db.write() as s:
        assert d.reactivate_service(s, service_id=LAC_CHARNWOOD).active


def test_every_directory_write_is_in_the_change_log(ctx: AppContext) -> None:
    new = logged(ctx, lambda s: d.add_service(s, kind="OTHER", name="Men in Sheds"))
    logged(ctx, lambda s: d.update_service(s, service_id=new.id, response_days=10))
    logged(ctx, lambda s: d.deactivate_service(s, service_id=new.id))
    logged(ctx, lambda s: d.reactivate_service(s, service_id=new.id))
