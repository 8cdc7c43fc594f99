"""The reader's pages: sign-up and confirmation, sign-in, profile editor, my data, e-mail links."""
