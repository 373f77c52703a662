"""The namespaces, metric names and units of resource figures (SageMaker's where it has one).

``CPUUtilization`` is on SageMaker's scale, 0-100 per vCPU (4 vCPUs: 0-400); process CPU is
as ``top`` shows it (one busy core = 100).
"""

from __future__ import annotations

HOST_NAMESPACE = "vigil/Host"
PROCESS_NAMESPACE = "vigil/Process"

# metric name -> CloudWatch unit
HOST_UNITS: dict[str, str] = {
    "CPUUtilization": "Percent",
    "MemoryUtilization": "Percent",
    "MemoryUsed": "Bytes",
    "MemoryLimit": "Bytes",
    "DiskUtilization": "Percent",
    "NetworkReceived": "Bytes",
    "NetworkTransmitted": "Bytes",
    "GPUUtilization": "Percent",
    "GPUMemoryUtilization": "Percent",
    "GPUMemoryUsed": "Bytes",
    "GPUTemperature": "None",  # degrees Celsius
    "GPUPower": "None",  # watts
}
PROCESS_UNITS: dict[str, str] = {
    "ProcessCPUUtilization": "Percent",
    "ProcessMemoryResident": "Bytes",
    "ProcessCount": "Count",
}
