"""The names of the columns the job adds to the data, shared by every module that shapes rows.

``_corrupt_record`` holds the raw text of a rejected row and ``_reject_reason`` why it was
rejected (both internal: they never reach the table); ``_source_file`` and ``_ingested_at``
are written with every accepted row. Imports nothing from the package, so the row
transforms and the schema logic can both import it.
"""
CORRUPT_COLUMN = "_corrupt_record"
SOURCE_COLUMN = "_source_file"
INGESTED_COLUMN = "_ingested_at"
REASON_COLUMN = "_reject_reason"
INTERNAL_COLUMNS = (CORRUPT_COLUMN, REASON_COLUMN)


def data_columns(df):
    return [c for c in df.columns if c not in INTERNAL_COLUMNS]
