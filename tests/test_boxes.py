"""The declaration's ``boxes`` (the packing list): units, validation against the items, JSON Schema."""

import json
from decimal import Decimal

import pytest

from fba_jp.errors import InputError
from fba_jp.inputs import read_declaration


def declaration(boxes, items=({"msku": "TENT", "quantity": 3}, {"msku": "LAMP", "quantity": 4})):
    return {"shipment_id": "FBA15BOX", "seller": {"name": "Acme"}, "currency": "USD", "items": list(items),
            "boxes": boxes}


def read(write_declaration, data):
    return read_declaration(str(write_declaration(data)))[0]


def test_boxes_convert_pounds_and_inches_exactly(write_declaration):
    d = read(write_declaration, declaration([
        {"box_id": "FBA15BOXU000001", "count": 2, "contents": [{"msku": "TENT", "quantity": 1}, {"msku": "LAMP", "quantity": 2}],
         "weight": {"value": "10", "unit": "lb"}, "dimensions": {"length": 20, "width": 10, "height": 5, "unit": "in"}},
        {"box_id": "FBA15BOXU000002", "contents": [{"msku": "TENT", "quantity": 1}],
         "weight": {"value": "3.2", "unit": "KG"}, "dimensions": {"length": 60, "width": 40, "height": 30, "unit": "CM"}},
    ]))
    first, second = d.boxes
    assert first.count == 2 and first.weight.unit == "LB" and first.dimensions.unit == "IN"
    assert first.weight.kg == Decimal("4.5359237")
    assert first.dimensions.cm3 == Decimal("16387.064")  # 1,000 in³ × 2.54³
    assert second.weight.kg == Decimal("3.2") and second.dimensions.cm3 == 72_000


@pytest.mark.parametrize("boxes, line", [
    ([{"box_id": "B1", "contents": [{"msku": "TENT", "quantity": 3}]},
      {"box_id": "B1", "contents": [{"msku": "LAMP", "quantity": 4}]}],
     "boxes: box_id 'B1' appears twice; give each box its own id"),
    ([{"box_id": "B1", "contents": [{"msku": "TENT", "quantity": 3}, {"msku": "MUG", "quantity": 1}]},
      {"box_id": "B2", "contents": [{"msku": "LAMP", "quantity": 4}]}],
     "boxes: box 'B1' holds msku 'MUG', which is not an item of this shipment"),
    ([{"box_id": "B1", "count": 2, "contents": [{"msku": "TENT", "quantity": 1}, {"msku": "LAMP", "quantity": 2}]}],
     "boxes: the boxes hold 2 units of 'TENT' but the item quantity is 3"),
    ([{"box_id": "B1", "weight": {"value": 0, "unit": "KG"}}], "boxes[0].weight.value: input should be greater than 0 (got 0)"),
    ([{"box_id": "B1", "dimensions": {"length": 1, "width": 1, "height": 1, "unit": "mm"}}],
     "boxes[0].dimensions.unit: input should be 'CM' or 'IN' (got 'MM')"),
])
def test_boxes_that_cannot_be_the_packing_of_the_items_are_one_line_each(write_declaration, boxes, line):
    with pytest.raises(InputError) as error:
        read(write_declaration, declaration(boxes))
    assert error.value.lines == [f"{write_declaration(declaration(boxes))}: {line}"]


def test_boxes_without_contents_are_allowed_and_do_not_need_to_add_up(write_declaration):
    # MANUAL_PROCESS: Amazon knows the cartons but not what is in them
    d = read(write_declaration, declaration([{"box_id": "B1", "weight": {"value": "12.5", "unit": "KG"}}]))
    assert d.boxes[0].contents == [] and d.boxes[0].count == 1


def test_the_schema_documents_boxes(run_cli):
    schema = json.loads(run_cli("schema").stdout)
    box = schema["$defs"]["Box"]
    assert schema["properties"]["boxes"]["items"]["$ref"] == "#/$defs/Box"
    assert set(box["properties"]) == {"box_id", "count", "contents", "weight", "dimensions"}
    assert "Box.quantity" in box["properties"]["count"]["description"]
    assert schema["$defs"]["BoxWeight"]["properties"]["unit"]["enum"] == ["KG", "LB"]
