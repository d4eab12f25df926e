"""``--output json``: the ``fba-jp/result/v1`` document (CONTRACT §3)."""

from ..models import ResultDocument


def render(document: ResultDocument) -> str:
    return document.model_dump_json(by_alias=True, indent=2) + "\n"
