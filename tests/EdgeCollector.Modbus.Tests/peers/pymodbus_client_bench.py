#!/usr/bin/python3
"""Benchmark peer: pymodbus 3.0.0rc1 sync TCP client reading holding registers in a loop.

Usage: /usr/bin/python3 pymodbus_client_bench.py PORT SECONDS COUNT
Prints "REQUESTS <n> SECONDS <elapsed>".
"""
import sys
import time

from pymodbus.client import ModbusTcpClient

port, seconds, count = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
client = ModbusTcpClient("127.0.0.1", port=port)
client.connect()
n = 0
start = time.perf_counter()
while time.perf_counter() - start < seconds:
    result = client.read_holding_registers(0, count, slave=1)
    if result.isError():
        print(f"ERROR {result}", flush=True)
        sys.exit(1)
    n += 1
elapsed = time.perf_counter() - start
client.close()
print(f"REQUESTS {n} SECONDS {elapsed:.3f}", flush=True)
