"""Execution-quality recording and the best-execution and transaction-cost reports.

``records`` maps measured orders to rows of the ``execution_quality`` table and back;
``recorder`` writes those rows in the journal's transaction; ``build`` turns stored
orders into report data (pure); ``render`` and ``html`` turn report data into JSON,
CSV and an offline HTML page; ``queries`` reads the table; ``schedule`` writes the
daily report.
"""
