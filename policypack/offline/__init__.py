"""The offline check and audit: one pipeline from a source of resources to a report, no CLI, plugin
or cloud.

    source                      evaluator                     report
    check.py  (a program run,   evaluate.py (starts the pack   reports.py (text, json, sarif,
               runner.py)   ->   as the CLI does, client.py;  ->  junit, github, html; one
    state.py  (a stack export)   drive.py calls it in the       stack or many, many.py)
                                 engine's order)

What passes between the stages is in pipeline.py: a new source yields an `Evaluation`, a new
format renders a `Report` (or a `Batch` of them).
"""
