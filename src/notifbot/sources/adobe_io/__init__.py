"""Adobe I/O Events (Marketo data streams): envelope mapping, signatures, the webhook, IMS tokens, the journal."""
