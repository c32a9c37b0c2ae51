"""E-mail intake: Marketo's notification e-mails read from IMAP mailboxes, each stored as one notification."""
