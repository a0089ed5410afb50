; References: identifiers used (called, read, imported, or named as a type).
[(identifier) (type_identifier)] @ref
