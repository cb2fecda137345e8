using System.Globalization;

namespace Kv.Admin.Output;

/// <summary>Readable sizes and durations for tables (JSON keeps exact numbers).</summary>
public static class Units
{
    /// <summary>"0 B", "12.3 KiB", "4.0 GiB".</summary>
    public static string Bytes(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double value = bytes;
        int unit = 0;
        while (Math.Abs(value) >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }
        return unit == 0 ? $"{bytes} B" : value.ToString("0.0", CultureInfo.InvariantCulture) + " " + units[unit];
    }

    /// <summary>"42s", "3m 05s", "2h 10m", "4d 3h".</summary>
    public static string Duration(TimeSpan t) => t.TotalSeconds switch
    {
        < 60 => $"{(int)t.TotalSeconds}s",
        < 3600 => $"{t.Minutes}m {t.Seconds:00}s",
        < 86_400 => $"{(int)t.TotalHours}h {t.Minutes:00}m",
        _ => $"{(int)t.TotalDays}d {t.Hours}h",
    };
}
