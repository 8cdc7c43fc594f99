"""Relevance of every paper for every reader.

`inputs` reads the papers and profiles from the database into `rows`; `lexical` and `matching`
match text and names; `signals` holds what each signal weighs; `paper_index` indexes the day's
papers and `profile_matrices` the readers' profiles over them; `scores` scores every (reader,
paper) pair as arithmetic on arrays, and gives each signal's share of a reader's relevance.
"""
