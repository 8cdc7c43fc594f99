"""Relevance of every paper for every reader.

`inputs` reads the papers and profiles from the database, `lexical` and `matching` match text
and names, `compute` scores every (reader, paper) pair as arithmetic on arrays.
"""
