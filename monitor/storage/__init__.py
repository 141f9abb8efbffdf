"""The one way into the database: engine, schema, migrations, audit trail, files."""
