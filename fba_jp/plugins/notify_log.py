"""Action: one structured log line (JSON) per verdict change, on the ``fba_jp.actions`` logger.

Always on unless ``[actions] log = false``; the daemon's log then shows every change exactly once.
"""

import json
import logging

from fba_jp import hookimpl

log = logging.getLogger("fba_jp.actions")


@hookimpl
def on_verdict_change(change, context):
    if not context.config.actions.log:
        return None
    log.warning(json.dumps({
        "event": "verdict_change", "event_id": change.event_id, "account": change.account,
        "shipment_id": change.shipment_id, "inbound_plan_id": change.inbound_plan_id,
        "previous_verdict": change.previous_verdict, "verdict": change.verdict,
        "blocking_codes": change.blocking_codes, "warning_codes": change.warning_codes,
    }, ensure_ascii=False))
    return True
