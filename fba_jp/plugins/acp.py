"""Attorney for Customs Procedures (税関事務管理人): DOMAIN §1 rules 5–6.

A seller that is its own Importer of Record but not resident in Japan can import only through an ACP
notified to Customs (Customs Act Art. 95, Form C-7500, about two weeks).
"""

import json
from datetime import timedelta

from fba_jp import Finding, hookimpl
from fba_jp.names import load_name_list, same_legal_form, same_party
from fba_jp.plugins.ior import AMAZON_RULE, ior_is_seller

ACP_RULE = "Customs Act Art. 95 (notification on Form C-7500)"
ACCEPTANCE_DAYS = 14  # "about 2 weeks on average" (research/japan-rules.md §1.3)


@hookimpl
def register_checks(register):
    register(check_acp, name="acp",
             codes=["ACP_MISSING", "ACP_PENDING", "ACP_REVOKED", "ACP_REGISTERED", "ACP_NOT_REQUIRED"])


def resolve_acp(shipment, context):
    """The ACP for this shipment and where it came from: the declaration, else the account profile."""
    account = context.account
    for owner, acp, acp_id in (
        ("declaration", shipment.acp, shipment.acp_id),
        (f"account {account.name!r}" if account else None, account and account.acp, account and account.acp_id),
    ):
        if owner is None:
            continue
        if acp is not None:
            return acp, f"{owner} acp", None
        if acp_id is not None:
            record = context.store.get_acp_record(acp_id) if context.store else None
            return context.lookup_acp(acp_id), f"{owner} acp_id {acp_id!r}", record
    return None, None, None


def check_acp(shipment, context):
    if not ior_is_seller(shipment):
        return
    if shipment.seller.japan_resident:
        yield Finding(code="ACP_NOT_REQUIRED", severity="info", reference=ACP_RULE,
                      message="The seller is resident in Japan and imports in its own name; no ACP is needed.")
        return
    acp, origin, record = resolve_acp(shipment, context)
    register_fix = (
        "Appoint an Attorney for Customs Procedures resident in Japan and have it notify Customs on Form "
        "C-7500 (acceptance takes about 2 weeks); record it with `fba-jp acp add` and reference it as acp_id."
    )
    if acp is None:
        detail = f" ({origin} is not in the ACP registry)" if origin else ""
        yield Finding(
            code="ACP_MISSING", severity="block", reference=ACP_RULE, evidence=origin,
            message=f"The seller {shipment.seller.name!r} is not resident in Japan and is its own Importer of "
                    f"Record, but no Attorney for Customs Procedures is recorded{detail}.",
            remedy=register_fix,
        )
        return
    if (finding := _not_an_acp(acp, origin, shipment, register_fix)) is not None:
        yield finding
        return
    if record is not None:
        served = [s for s in _sellers(record) if s]
        if served and not any(_serves(s, shipment.seller.name) for s in served):
            yield Finding(
                code="ACP_MISSING", severity="block", reference=ACP_RULE, evidence=origin,
                # the ACP's other clients are not named: this finding reaches this seller's reports,
                # notifications and dashboard, and an ACP firm's client list is not for its clients to read
                message=f"ACP {acp.name!r} is registered, but not for seller {shipment.seller.name!r}: the registry "
                        f"does not record it as serving this seller. An ACP notification is made per importer.",
                remedy=f"Have {acp.name} notify Customs for this seller, then run "
                       f"`fba-jp acp set-status {record['id']} registered --seller \"{shipment.seller.name}\"`.",
            )
            return
    declared = shipment.declaration_date
    if acp.status == "revoked":
        yield Finding(
            code="ACP_REVOKED", severity="block", reference=ACP_RULE, evidence=origin,
            message=f"The ACP {acp.name!r} has been revoked or dismissed; goods cannot be imported through it.",
            remedy=register_fix,
        )
    elif acp.status == "pending" or (acp.accepted_on is not None and acp.accepted_on > declared):
        if acp.accepted_on is not None and acp.accepted_on > declared:
            when = f"it is accepted only from {acp.accepted_on}, after the declaration date {declared}"
        elif acp.notified_on is not None:
            expected = acp.notified_on + timedelta(days=ACCEPTANCE_DAYS)
            when = f"notified on {acp.notified_on}, acceptance expected around {expected} (about 2 weeks)"
        else:
            when = "acceptance usually takes about 2 weeks after the C-7500 notification"
        yield Finding(
            code="ACP_PENDING", severity="block", reference=ACP_RULE, evidence=origin,
            message=f"The ACP {acp.name!r} is not yet accepted by Customs: {when}.",
            remedy="Ship only after Customs has accepted the ACP notification, or move the declaration date; "
                   "then update the record with `fba-jp acp set-status ID registered --accepted-on DATE`.",
        )
    else:
        on = f" (accepted on {acp.accepted_on})" if acp.accepted_on else " (acceptance date not recorded)"
        yield Finding(
            code="ACP_REGISTERED", severity="info", reference=ACP_RULE, evidence=origin,
            message=f"ACP {acp.name!r} is registered{on} for this non-resident importer.",
        )


def _not_an_acp(acp, origin, shipment, register_fix):
    """``ACP_MISSING`` when the named ACP cannot be one (DOMAIN §1 rule 5; docs/rules.md): Amazon never; a
    carrier or broker said to be "registered" only with the date Customs accepted it as this importer's
    ACP (pending and revoked ones get the usual codes)."""
    amazon = load_name_list("amazon_entities.toml")
    if (entity := amazon.match(acp.name)) is not None:
        return Finding(
            code="ACP_MISSING", severity="block", reference=f"{ACP_RULE}; {AMAZON_RULE}",
            evidence=f"{origin}: name {acp.name!r} matches {entity.name} ({amazon.file}, as of {amazon.as_of})",
            message=f"The ACP {acp.name!r} is Amazon. Amazon and its entities never act as Attorney for Customs "
                    "Procedures (or as importer), so this non-resident importer has no ACP at all.",
            remedy=register_fix,
        )
    carriers = load_name_list("carriers.toml")
    if (entity := carriers.match(acp.name)) is not None and acp.status == "registered" and acp.accepted_on is None:
        return Finding(
            code="ACP_MISSING", severity="block", reference=ACP_RULE,
            evidence=f"{origin}: name {acp.name!r} matches {entity.name} ({carriers.file}, as of {carriers.as_of}); "
                     "status 'registered' without accepted_on",
            message=f"The ACP {acp.name!r} is a carrier, forwarder or customs broker ({entity.name}), and no Customs "
                    "acceptance of its notification as this importer's ACP is recorded. A carrier or broker that "
                    "files your declaration acts as your customs broker, not as your ACP.",
            remedy="If the company really is notified to Customs as your ACP (Form C-7500), record the acceptance "
                   "date (acp accepted_on, or `fba-jp acp set-status ID registered --accepted-on DATE`). "
                   "Otherwise: " + register_fix,
        )
    return None


def _sellers(record):
    return json.loads(record.get("sellers") or "[]")


def _serves(served: str, seller: str) -> bool:
    """Whether the registry's served name ``served`` is the seller. An ACP is notified to Customs per
    importer: "Kestrel Outdoor LLC" and "Kestrel Outdoor GmbH" are two importers, so the legal forms count
    (``same_party`` alone sets them aside and would clear the second through the first one's ACP)."""
    return same_party(served, seller) and same_legal_form(served, seller)
