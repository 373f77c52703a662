"""What a metric is, on the core floor: the contract between the jobs that write figures and
the alarms that read them (:mod:`~vigil.metrics.contract`: namespaces, names, dimensions),
one validated datapoint (:mod:`~vigil.metrics.datum`) and CloudWatch's statistics over
periods (:mod:`~vigil.metrics.statistics`). Pure: storing them is :mod:`vigil.store.metrics`'
job, and this package imports no database, so a serving process that captures and counts
stays light.
"""
