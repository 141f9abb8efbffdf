"""Session reports' content and the CSV and FHIR exports."""
