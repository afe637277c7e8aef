"""Sigma rules as an input format: compiled into dbt detection models with generated tests.

`fields` maps Sigma's CloudTrail field names onto `cloudtrail_events`; `semantics` is the
reference meaning of a rule in Python (what a match is); `compiler` writes the SQL;
`examples` builds true-positive and true-negative events for each rule's unit tests;
`importer` reads rule files and writes, updates or checks the models.
"""
