#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A Modbus TCP server (pymodbus) standing in for a PLC / inverter that
receives bmsgw's upstream push.  usage: upstream_server.py PORT
It holds 65536 holding registers for any unit id; tests read back what was
pushed with a Modbus client."""
import logging
import sys

from pymodbus.datastore import ModbusSequentialDataBlock, ModbusServerContext, ModbusSlaveContext
from pymodbus.server import StartTcpServer

logging.basicConfig(level=logging.WARNING)
port = int(sys.argv[1])
store = ModbusSlaveContext(hr=ModbusSequentialDataBlock(0, [0] * 65536), zero_mode=True)
context = ModbusServerContext(slaves=store, single=True)
StartTcpServer(context=context, address=("127.0.0.1", port))
