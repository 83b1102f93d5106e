#!/usr/bin/python3
"""pymodbus 3.0.0rc1 slave used as a real peer by the EdgeCollector Modbus integration tests.

Usage: /usr/bin/python3 pymodbus_server.py CONFIG.json

CONFIG:
  {"mode": "tcp"}                                   -> listens on 127.0.0.1:<free port>, prints "LISTENING <port>"
  {"mode": "rtu", "device": "/tmp/x/b", "baud": 19200, "parity": "N", "stopbits": 1}
                                                    -> serves RTU on the device, prints "READY"
  {"mode": "rtu-over-tcp", "port": 5020}            -> RTU frames on a TCP listener (pymodbus "socket:" device),
                                                       prints "READY" just before listening
  "units": {"1": {"size": 1000,
                  "points": [{"area": "hr"|"ir", "address": 10, "type": "float32", "order": "CDAB", "value": 1.5}],
                  "bits":   [{"area": "co"|"di", "address": 3, "value": true}]}}

Values are encoded by pymodbus' own BinaryPayloadBuilder (BCD by hand: pymodbus has no BCD
builder), so the collector's decoders are checked against an independent encoder.
Addresses are 0-based wire addresses (zero_mode=True).
"""
import asyncio
import json
import sys

from pymodbus.constants import Endian
from pymodbus.datastore import (
    ModbusSequentialDataBlock,
    ModbusServerContext,
    ModbusSlaveContext,
)
from pymodbus.framer.rtu_framer import ModbusRtuFramer
from pymodbus.payload import BinaryPayloadBuilder
from pymodbus.server import StartAsyncSerialServer, StartAsyncTcpServer

# word order name -> (byte order inside a word, word order)
ORDERS = {
    "ABCD": (Endian.Big, Endian.Big),
    "CDAB": (Endian.Big, Endian.Little),
    "BADC": (Endian.Little, Endian.Big),
    "DCBA": (Endian.Little, Endian.Little),
}

ADDERS = {
    "int16": "add_16bit_int",
    "uint16": "add_16bit_uint",
    "int32": "add_32bit_int",
    "uint32": "add_32bit_uint",
    "int64": "add_64bit_int",
    "uint64": "add_64bit_uint",
    "float32": "add_32bit_float",
    "float64": "add_64bit_float",
}

BCD_BYTES = {"bcd16": 2, "bcd32": 4, "bcd48": 6}


def bcd_registers(value, nbytes, order):
    digits = f"{int(value):0{nbytes * 2}d}"
    if len(digits) != nbytes * 2:
        raise ValueError(f"{value} does not fit {nbytes} BCD bytes")
    raw = bytes((int(digits[i]) << 4) | int(digits[i + 1]) for i in range(0, len(digits), 2))
    words = [(raw[i] << 8) | raw[i + 1] for i in range(0, len(raw), 2)]
    byteorder, wordorder = ORDERS[order]
    if wordorder == Endian.Little:
        words.reverse()
    if byteorder == Endian.Little:
        words = [((w & 0xFF) << 8) | (w >> 8) for w in words]
    return words


def encode(point):
    kind = point["type"]
    order = point.get("order", "ABCD")
    if kind in BCD_BYTES:
        return bcd_registers(point["value"], BCD_BYTES[kind], order)
    byteorder, wordorder = ORDERS[order]
    builder = BinaryPayloadBuilder(byteorder=byteorder, wordorder=wordorder)
    value = point["value"]
    if not kind.startswith("float"):
        value = int(value)
    getattr(builder, ADDERS[kind])(value)
    return builder.to_registers()


def build_context(config):
    slaves = {}
    for unit, spec in config["units"].items():
        size = spec.get("size", 1000)
        blocks = {"hr": [0] * size, "ir": [0] * size, "co": [False] * size, "di": [False] * size}
        for point in spec.get("points", []):
            registers = encode(point)
            start = point["address"]
            blocks[point["area"]][start:start + len(registers)] = registers
        for bit in spec.get("bits", []):
            blocks[bit["area"]][bit["address"]] = bool(bit["value"])
        slaves[int(unit)] = ModbusSlaveContext(
            di=ModbusSequentialDataBlock(0, blocks["di"]),
            co=ModbusSequentialDataBlock(0, blocks["co"]),
            hr=ModbusSequentialDataBlock(0, blocks["hr"]),
            ir=ModbusSequentialDataBlock(0, blocks["ir"]),
            zero_mode=True,
        )
    return ModbusServerContext(slaves=slaves, single=False)


async def main(config):
    context = build_context(config)
    if config["mode"] == "tcp":
        server = await StartAsyncTcpServer(
            context=context,
            address=("127.0.0.1", config.get("port", 0)),
            defer_start=True,
            ignore_missing_slaves=True,
            allow_reuse_address=True,
        )
        task = asyncio.create_task(server.serve_forever())
        await server.serving
        port = server.server.sockets[0].getsockname()[1]
        print(f"LISTENING {port}", flush=True)
        await task
    elif config["mode"] == "rtu-over-tcp":
        server = await StartAsyncSerialServer(
            context=context,
            framer=ModbusRtuFramer,
            port=f"socket:127.0.0.1:{config['port']}",
            defer_start=True,
            ignore_missing_slaves=True,
        )
        await server.start()
        print("READY", flush=True)
        await server.serve_forever()
    else:
        server = await StartAsyncSerialServer(
            context=context,
            framer=ModbusRtuFramer,
            port=config["device"],
            baudrate=config.get("baud", 19200),
            parity=config.get("parity", "N"),
            stopbits=config.get("stopbits", 1),
            bytesize=8,
            defer_start=True,
            ignore_missing_slaves=True,
        )
        await server.start()
        if server.transport is None:
            print(f"could not open {config['device']}", flush=True)
            sys.exit(2)
        print("READY", flush=True)
        await server.serve_forever()


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as f:
        asyncio.run(main(json.load(f)))
