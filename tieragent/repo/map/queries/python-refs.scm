; References: every identifier that is read, called, imported or used as a base or type.
(identifier) @ref
; ...except the module paths of imports (`from django.db import models` uses `models`, not `django`
; or `db`): the identifiers inside these are subtracted from the ones above.
(import_from_statement module_name: (dotted_name) @ref.skip)
(import_statement name: [(dotted_name) @ref.skip (aliased_import name: (dotted_name) @ref.skip)])
