"""bioRxiv and medRxiv: their API's client, records, subjects and the issue day's window."""
