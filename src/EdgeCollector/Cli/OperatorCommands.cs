using System.CommandLine;
using EdgeCollector.Core.Configuration;
using EdgeCollector.Core.Engine;
using EdgeCollector.Sources.Recording;

namespace EdgeCollector.Cli;

/// <summary>
/// <c>edgecollector operator …</c>: operator actions for a running collector, appended to the
/// audit-trail inbox in its data dir (who, when, why) and applied by the collector within a second.
/// </summary>
public static class OperatorCommands
{
    public static Command Build()
    {
        var by = new Option<string>("--by") { Description = "Who does it (kept in the audit trail).", Required = true };

        var ticket = new Option<string>("--ticket") { Description = "Id of the ticket to void (from its ticket message).", Required = true };
        var reason = new Option<string>("--reason") { Description = "Why (kept in the audit trail and published with the void).", Required = true };
        var voidCommand = new Command("void", "Void a weighing ticket: it leaves every figure and each published window that held it is published again (rev + 1).");
        CommandLine.AddConfigOptions(voidCommand);
        voidCommand.Options.Add(ticket);
        voidCommand.Options.Add(reason);
        voidCommand.Options.Add(by);
        voidCommand.SetAction((parse, ct) => AppendAsync(parse, new VoidRecord(Now(), parse.GetValue(ticket)!, parse.GetValue(reason)!), parse.GetValue(by)!, ct));

        var furnace = new Option<string>("--furnace") { Description = "Furnace id.", Required = true };
        var material = new Option<Material?>("--material") { Description = "Primary | PreConsumer | PostConsumerUbc | PostConsumerOther | Internal | Alloying; omit to clear the pick." };
        var pick = new Command("material", "Pick the material of the next charges of a furnace (holds until the next pick).");
        CommandLine.AddConfigOptions(pick);
        pick.Options.Add(furnace);
        pick.Options.Add(material);
        pick.Options.Add(by);
        pick.SetAction((parse, ct) => AppendAsync(parse, new MaterialPickRecord(Now(), parse.GetValue(furnace)!, parse.GetValue(material)), parse.GetValue(by)!, ct));

        var command = new Command("operator", "Operator actions for a running collector (audit trail: <DataDir>/operator-actions.jsonl).");
        command.Subcommands.Add(voidCommand);
        command.Subcommands.Add(pick);
        return command;
    }

    private static long Now() => DateTimeOffset.UtcNow.UtcTicks;

    private static async Task<int> AppendAsync(ParseResult parse, InputRecord action, string by, CancellationToken ct)
    {
        var config = CommandLine.LoadConfig(parse, Console.Error);
        if (config is null)
        {
            return ExitCodes.BadInput;
        }

        if (action is MaterialPickRecord m && config.Furnaces.All(f => f.Id != m.Furnace))
        {
            await Console.Error.WriteLineAsync($"--furnace: '{m.Furnace}' is not one of {string.Join(", ", config.Furnaces.Select(f => f.Id))}");
            return ExitCodes.BadInput;
        }

        string line = await OperatorInbox.AppendAsync(config.Storage.DataDir, action, by, ct);
        Console.WriteLine(line);
        return ExitCodes.Ok;
    }
}
