global using EdgeCollector.Modbus;
