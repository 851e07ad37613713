"""Importing the files schools and partnerships keep or download.

Modules
-------
files
    Reading any uploaded file: bytes, text encodings, CSV delimiters, workbook sheets, heading rows.
values
    Reading single values: numbers, percentages, academic years, DfE suppression codes.
problems
    What is wrong with a file (:class:`ImportProblem`) and the error that carries every problem.
log
    The imports log and the replaced rows that let an import be undone.
results
    The generic long-format results importer.
dfe
    The published files: DfE performance tables, GIAS, Ofsted, absence, URN lineage.
survey
    Questionnaire responses.
"""
