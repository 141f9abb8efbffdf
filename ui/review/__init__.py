"""The clinician's review: session search, one session, the course, exports and the PDF."""
