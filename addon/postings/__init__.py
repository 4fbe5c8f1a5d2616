"""Postings: drafts on their way into QuickBooks, exactly one invoice per business key.

Modules: ``store`` (adding and reading postings), ``pipeline`` (the posting job's steps), ``jobs``
(RQ queueing with per-company fairness), ``invoice`` (draft to invoice, totals check), ``lookup``
(finding an invoice a lost reply created), ``review`` and ``edits`` (people's actions), ``sweeper``
(tick's safety net). docs/architecture.md ("Postings") documents the contract.
"""
