"""Vital signs from the bedside monitor: HL7 v2 (IHE PCD-01 ORU^R01) over MLLP, Qt-free."""
