using System.Globalization;
using SceneSlices.Scenes;
using SkiaSharp;
using SliceLearning.Models;

namespace SceneSlices;

/// <summary>A PNG of test images per true slice with the SRAM prediction and its top attention weights.</summary>
public static class Grid
{
    public static void Save(string path, SceneSplit test, SliceAwareModel model, IReadOnlyList<string> rows, int perRow = 5)
    {
        int size = test.Scenes[0].Size, cell = size <= 64 ? size : 96, column = Math.Max(cell, 104), label = 56, caption = 26;
        var picks = rows.Select(slice =>
        {
            var members = test.TrueSlices.Members(test.TrueSlices.IndexOf(slice));
            // alternate cyclist / no cyclist so both kinds show
            var pos = members.Where(i => test.Scenes[i].HasCyclist).Take((perRow + 1) / 2);
            var neg = members.Where(i => !test.Scenes[i].HasCyclist).Take(perRow / 2);
            return pos.Concat(neg).OrderBy(i => i).ToArray();
        }).ToArray();
        var all = picks.SelectMany(p => p).Distinct().ToArray();
        using var features = test.Features.index_select(0, TorchSharp.torch.tensor(all.Select(i => (long)i).ToArray()));
        var explained = model.Explain(features, topSlices: 3);
        var byRow = all.Select((row, k) => (row, k)).ToDictionary(x => x.row, x => explained.Examples[x.k]);

        int width = label + perRow * (column + 4), height = rows.Count * (cell + caption + 6) + 4;
        using var bitmap = new SKBitmap(width, height);
        using var canvas = new SKCanvas(bitmap);
        canvas.Clear(SKColors.White);
        using var font = new SKFont(SKTypeface.Default, 9.5f);
        using var black = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        using var green = new SKPaint { Color = new SKColor(0, 130, 0), IsAntialias = true };
        using var red = new SKPaint { Color = new SKColor(200, 0, 0), IsAntialias = true };
        using var grey = new SKPaint { Color = new SKColor(80, 80, 80), IsAntialias = true };
        for (int r = 0; r < rows.Count; r++)
        {
            int top = 4 + r * (cell + caption + 6);
            canvas.DrawText(rows[r], 4, top + cell / 2f, font, black);
            for (int c = 0; c < picks[r].Length; c++)
            {
                int i = picks[r][c], left = label + c * (column + 4), imageLeft = left + (column - cell) / 2;
                var scene = test.Scenes[i];
                using var image = ToBitmap(scene);
                using var paint = new SKPaint { IsAntialias = false };
                canvas.DrawImage(SKImage.FromBitmap(image), new SKRect(imageLeft, top, imageLeft + cell, top + cell), new SKSamplingOptions(SKFilterMode.Linear), paint);
                var e = byRow[i];
                bool correct = e.PredictedClass == scene.Label;
                canvas.DrawText(string.Create(CultureInfo.InvariantCulture, $"{(scene.HasCyclist ? "cyclist" : "none")}  p={e.Probabilities[1]:0.00}"), left, top + cell + 11, font, correct ? green : red);
                var att = string.Join(" ", e.TopSlices.Take(2).Select(t => string.Create(CultureInfo.InvariantCulture, $"{Short(t.Slice)} {t.Weight:.00}")));
                canvas.DrawText(att, left, top + cell + 22, font, grey);
            }
        }
        using var pixmap = bitmap.PeekPixels();
        using var png = pixmap.Encode(new SKPngEncoderOptions(SKPngEncoderFilterFlags.AllFilters, 9))
            ?? throw new InvalidOperationException($"SkiaSharp could not encode the grid as PNG for {path}.");
        using var file = File.Create(path);
        png.SaveTo(file);
    }

    private static string Short(string slice) => slice switch { "traffic_light" => "light", "fire_hydrant" => "hydrant", "stop_sign" => "stop", "bicycle" => "bike", _ => slice };

    public static SKBitmap ToBitmap(Scene scene)
    {
        var bitmap = new SKBitmap(new SKImageInfo(scene.Size, scene.Size, SKColorType.Rgba8888, SKAlphaType.Opaque));
        var span = bitmap.GetPixelSpan();
        var bytes = new byte[span.Length];
        for (int p = 0, q = 0; p < scene.Pixels.Length; p += 3, q += 4)
        {
            bytes[q] = scene.Pixels[p];
            bytes[q + 1] = scene.Pixels[p + 1];
            bytes[q + 2] = scene.Pixels[p + 2];
            bytes[q + 3] = 255;
        }
        System.Runtime.InteropServices.Marshal.Copy(bytes, 0, bitmap.GetPixels(), bytes.Length);
        return bitmap;
    }
}
