using System.CommandLine;

namespace EdgeCollector.Cli;

public static class CheckConfigCommand
{
    public static Command Build()
    {
        var command = new Command("check-config", "Validate a config file and print every problem with the path of its key; exit 2 when invalid.");
        CommandLine.AddConfigOptions(command);
        command.SetAction(parse =>
        {
            var config = CommandLine.LoadConfig(parse, Console.Error);
            if (config is null)
            {
                return ExitCodes.BadInput;
            }

            Console.WriteLine($"config OK: site '{config.Site.Id}', {config.Sources.Count} source(s), {config.Furnaces.Count} furnace(s), " +
                $"{config.Furnaces.Sum(f => f.Meters.Count) + config.SiteMeters.Count} meter(s), factor set '{config.Factors.Set}'");
            return ExitCodes.Ok;
        });
        return command;
    }
}
