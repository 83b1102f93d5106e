using System.CommandLine;
using EdgeCollector.Configuration;
using EdgeCollector.Core.Configuration;

namespace EdgeCollector.Cli;

/// <summary>Every verb of <c>edgecollector</c> under one root (System.CommandLine).</summary>
public static class CommandLine
{
    public static readonly Option<string?> ConfigOption = new("--config", "-c")
    {
        Description = "Path of the JSON config file (contracts.md §1). Omitted: the embedded demo config.",
    };

    public static readonly Option<string[]> SetOption = new("--set")
    {
        Description = "Override one config key, e.g. --set Uplink:Mqtt:Broker=mqtt://10.0.0.5:1883 (repeatable).",
    };

    public static RootCommand Build()
    {
        var root = new RootCommand("""
            EdgeCollector: reads furnace gas and power meters and scales (OPC UA, Modbus, serial weight
            indicators), computes live melt yield and Scope 1+2 intensity, and forwards them over MQTT.
            """);
        root.Subcommands.Add(RunCommand.Build());
        root.Subcommands.Add(CheckConfigCommand.Build());
        root.Subcommands.Add(ReplayCommand.Build());
        root.Subcommands.Add(RecordCommand.Build());
        root.Subcommands.Add(DemoCommand.Build());
        root.Subcommands.Add(DeviceCommands.Modbus());
        root.Subcommands.Add(DeviceCommands.Scale());
        root.Subcommands.Add(OperatorCommands.Build());
        root.Subcommands.Add(OpcUaCommands.Build());
        root.Subcommands.Add(CertsCommand.Build());
        return root;
    }

    /// <summary>Loads and validates the config; prints every problem with its path and returns null when invalid.</summary>
    public static EdgeConfig? LoadConfig(ParseResult parse, TextWriter error)
    {
        var overrides = ConfigLoader.ParseOverrides(parse.GetValue(SetOption) ?? [], out var overrideErrors);
        foreach (var e in overrideErrors)
        {
            error.WriteLine($"--set: {e}");
        }

        var result = ConfigLoader.Load(parse.GetValue(ConfigOption), overrides);
        foreach (var e in result.Errors)
        {
            error.WriteLine(e);
        }

        if (!result.IsValid || overrideErrors.Count > 0)
        {
            error.WriteLine($"{result.Origin}: {result.Errors.Count + overrideErrors.Count} problem(s); the collector does not start with an invalid config.");
            return null;
        }

        return result.Config;
    }

    public static void AddConfigOptions(Command command)
    {
        command.Options.Add(ConfigOption);
        command.Options.Add(SetOption);
    }
}

/// <summary>Process exit codes.</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    public const int Failure = 1;
    public const int BadInput = 2;
}
