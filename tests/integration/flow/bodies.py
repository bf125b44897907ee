"""What the people in the flow tests send: the quality standard for teak garden chairs and the chair itself."""

from __future__ import annotations

from typing import Any

STANDARD: dict[str, Any] = {
    "name": "Teak garden chair, EU retail grade A",
    "attributes": [
        {"name": "seat height", "unit": "cm", "nominal": "45", "lower_tolerance": "1", "upper_tolerance": "1"},
        {"name": "moisture", "unit": "%", "nominal": "10", "lower_tolerance": "4", "upper_tolerance": "2"},
    ],
    "checks": [
        {"name": "no cracks in joints", "defect_class": "critical"},
        {"name": "even oil finish", "defect_class": "minor"},
    ],
    "defect_classes": [
        {"defect_class": "critical", "aql": "0.065"},
        {"defect_class": "major", "aql": "1.0"},
        {"defect_class": "minor", "aql": "4.0"},
    ],
    "inspection_level": "II",
    "publish": True,
}
"""Teak garden chair, EU retail grade A: measured seat height and moisture, checks, AQLs per defect class."""

CHAIR: dict[str, Any] = {
    "sku": "TGC-45",
    "name": "Teak garden chair",
    "hs_code": "9403.60",
    "category": "furniture",
    "unit": "PCE",
    "moq": 10,
    "lead_time_days": 21,
}
"""Wooden furniture (HS 9403.60): a commodity of the EU deforestation regulation, so its origin plots matter."""
