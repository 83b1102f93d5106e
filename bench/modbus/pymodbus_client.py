#!/usr/bin/python3
"""Peer for bench/modbus.sh: the pymodbus 3.0.0rc1 sync TCP client.

  rate PORT SECONDS COUNT     FC03 reads of COUNT registers at 0 from unit 1 in a loop for SECONDS
                              -> "RESULT requests=N seconds=S cpu=C"
  poll PORT REGISTERS SECONDS reads REGISTERS holding registers in blocks of 124 once a second and decodes
                              them as big-endian Float32 pairs (what our poller does with its tags)
                              -> "RESULT blocks=B cycles=N samples=M bad=0 seconds=S cpu=C"
cpu is user+sys seconds of this process inside the timed window (time.process_time).
"""
import struct
import sys
import time

from pymodbus.client import ModbusTcpClient


def rate(client, seconds, count):
    last = count - 1
    for _ in range(200):  # warm-up outside the window
        client.read_holding_registers(0, count, slave=1)
    n = 0
    cpu0, start = time.process_time(), time.perf_counter()
    while time.perf_counter() - start < seconds:
        result = client.read_holding_registers(0, count, slave=1)
        if result.isError() or result.registers[last] != last:
            print(f"ERROR {result}", flush=True)
            sys.exit(1)
        n += 1
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu0
    print(f"RESULT requests={n} seconds={elapsed:.3f} cpu={cpu:.3f}", flush=True)


def poll(client, registers, seconds):
    # Blocks as our planner makes them for Float32 tags: <= 125 registers without splitting a pair, so 124.
    blocks = [(a, min(124, registers - a)) for a in range(0, registers, 124)]

    def cycle():
        values = []
        for address, count in blocks:
            result = client.read_holding_registers(address, count, slave=1)
            if result.isError():
                print(f"ERROR {result}", flush=True)
                sys.exit(1)
            raw = struct.pack(f">{count}H", *result.registers)
            values.extend(struct.unpack(f">{count // 2}f", raw))
        return len(values)

    cycle()  # warm-up
    cycles = samples = 0
    cpu0, start = time.process_time(), time.perf_counter()
    next_tick = start + 1.0
    while True:
        now = time.perf_counter()
        if now < next_tick:
            time.sleep(next_tick - now)
        samples += cycle()
        cycles += 1
        next_tick += 1.0
        if time.perf_counter() - start >= seconds - 0.5:
            break
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu0
    print(f"RESULT blocks={len(blocks)} cycles={cycles} samples={samples} bad=0 seconds={elapsed:.3f} cpu={cpu:.3f}", flush=True)


if __name__ == "__main__":
    verb, port = sys.argv[1], int(sys.argv[2])
    client = ModbusTcpClient("127.0.0.1", port=port)
    if not client.connect():
        print(f"cannot connect to 127.0.0.1:{port}", flush=True)
        sys.exit(1)
    try:
        if verb == "rate":
            rate(client, float(sys.argv[3]), int(sys.argv[4]))
        elif verb == "poll":
            poll(client, int(sys.argv[3]), float(sys.argv[4]))
        else:
            sys.exit(f"unknown verb {verb}")
    finally:
        client.close()
