; References: identifiers used (called, read, imported, or named as a type).
[(identifier) (field_identifier) (type_identifier)] @ref
