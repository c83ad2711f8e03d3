using System.Collections.Immutable;
using System.Reflection;
using System.Reflection.Emit;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;
using TorchSharp;

namespace SliceLearning.Tests.Runtime;

/// <summary>
/// Finds code that creates a TorchSharp <see cref="Scalar"/> nobody keeps alive: TorchSharp 0.107
/// frees a Scalar's native value in its finalizer, so a temporary one can be freed by a garbage
/// collection while libtorch still reads it. Two sources: (1) a conversion to Scalar in our code
/// (<c>t * 2.0</c>, <c>t.fill_(0)</c>, <c>x.ToScalar()</c>) that is neither a field initializer (a cached,
/// never-finalized Scalar) nor a <c>using</c> variable; (2) a call of a TorchSharp method that creates
/// such a temporary inside (<c>a + b</c> and <c>a.add(b)</c> pass a hidden alpha = 1), found by reading
/// TorchSharp's IL.
/// </summary>
internal static class ScalarSafetyAnalysis
{
    private static readonly Lazy<ImmutableDictionary<int, string>> Creators = new(ScanTorchSharp);

    /// <summary>
    /// Metadata tokens (in TorchSharp.dll) of the methods that create a Scalar and do not dispose it,
    /// directly or through TorchSharp methods they call, with a readable name each.
    /// </summary>
    public static ImmutableDictionary<int, string> TorchSharpImplicitScalarCreators => Creators.Value;

    public sealed record Violation(string File, int Line, string Code, string Reason)
    {
        public override string ToString() => $"{File}:{Line}: {Code}  ({Reason})";
    }

    /// <summary>Compiles <paramref name="sources"/> (path, text) against TorchSharp and the framework and lists every violation.</summary>
    public static IReadOnlyList<Violation> Analyze(IEnumerable<(string Path, string Text)> sources, out IReadOnlyList<Diagnostic> compileErrors)
    {
        var parse = new CSharpParseOptions(LanguageVersion.Preview);
        var trees = sources.Select(s => CSharpSyntaxTree.ParseText(s.Text, parse, s.Path)).ToList();
        trees.Add(CSharpSyntaxTree.ParseText(
            "global using System; global using System.Collections.Generic; global using System.IO; global using System.Linq; " +
            "global using System.Net.Http; global using System.Threading; global using System.Threading.Tasks;", parse, "GlobalUsings.g.cs"));
        var compilation = CSharpCompilation.Create("ScalarSafetyCheck", trees, References.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable, allowUnsafe: true));
        compileErrors = compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        var creators = TorchSharpImplicitScalarCreators;
        var found = new List<Violation>();
        foreach (var tree in trees)
        {
            var model = compilation.GetSemanticModel(tree);
            var root = tree.GetRoot();
            var seen = new HashSet<IOperation>();
            foreach (var node in root.DescendantNodes().Where(IsCodeRoot))
            {
                var operation = model.GetOperation(node);
                if (operation is null) continue;
                foreach (var op in operation.DescendantsAndSelf())
                {
                    if (!seen.Add(op)) continue;
                    string? reason = Check(op, creators);
                    if (reason is null) continue;
                    var line = op.Syntax.GetLocation().GetLineSpan().StartLinePosition.Line + 1;
                    found.Add(new Violation(tree.FilePath, line, op.Syntax.ToString(), reason));
                }
            }
        }
        return found.DistinctBy(v => (v.File, v.Line, v.Code, v.Reason)).OrderBy(v => v.File, StringComparer.Ordinal).ThenBy(v => v.Line).ToList();
    }

    /// <summary>The syntax nodes whose operation trees together cover all executable code (bodies, initializers).</summary>
    private static bool IsCodeRoot(SyntaxNode node) => node switch
    {
        BaseMethodDeclarationSyntax or AccessorDeclarationSyntax => true,
        ArrowExpressionClauseSyntax arrow => arrow.Parent is PropertyDeclarationSyntax or IndexerDeclarationSyntax,
        EqualsValueClauseSyntax value => value.Parent is PropertyDeclarationSyntax || value.Parent?.Parent?.Parent is FieldDeclarationSyntax,
        PrimaryConstructorBaseTypeSyntax => true,
        _ => false,
    };

    private static string? Check(IOperation op, ImmutableDictionary<int, string> creators)
    {
        switch (op)
        {
            case IConversionOperation conversion when IsScalar(conversion.Type) && !IsScalar(conversion.Operand.Type) && conversion.Operand.Type is not null:
                return IsKept(conversion) ? null : $"temporary Scalar from {conversion.Operand.Type.ToDisplayString()}";
            case IInvocationOperation invocation:
            {
                var method = invocation.TargetMethod;
                if (method.Name == "ToScalar" && IsScalar(method.ReturnType))
                    return IsKept(invocation) ? null : "temporary Scalar from ToScalar()";
                if (IsCreator(method, creators))
                    return $"{Name(method)} creates a temporary Scalar inside TorchSharp";
                if (method.Name == "call" && IsTorchSharp(method) && invocation.Instance?.Type is INamedTypeSymbol receiver)
                {
                    var forward = FindForward(receiver);
                    if (forward is not null && IsCreator(forward, creators))
                        return $"{Name(forward)} (run by call) creates a temporary Scalar inside TorchSharp";
                }
                return null;
            }
            case IBinaryOperation { OperatorMethod: { } binary } when IsCreator(binary, creators):
                return $"operator {binary.Name} {Name(binary)} creates a temporary Scalar inside TorchSharp";
            case IUnaryOperation { OperatorMethod: { } unary } when IsCreator(unary, creators):
                return $"operator {Name(unary)} creates a temporary Scalar inside TorchSharp";
            case ICompoundAssignmentOperation { OperatorMethod: { } compound } when IsCreator(compound, creators):
                return $"compound operator {Name(compound)} creates a temporary Scalar inside TorchSharp";
            case IPropertyReferenceOperation { Property.GetMethod: { } getter } when IsCreator(getter, creators):
                return $"{Name(getter)} creates a temporary Scalar inside TorchSharp";
            default:
                return null;
        }
    }

    private static IMethodSymbol? FindForward(INamedTypeSymbol? type)
    {
        for (; type is not null; type = type.BaseType)
        {
            var forward = type.GetMembers("forward").OfType<IMethodSymbol>().FirstOrDefault(m => !m.IsAbstract && m.Parameters.Length == 1);
            if (forward is not null) return forward;
        }
        return null;
    }

    /// <summary>A Scalar made here is kept when it initializes a field (cached) or a using variable (disposed after use).</summary>
    private static bool IsKept(IOperation creation)
    {
        var parent = creation.Parent;
        while (parent is IConversionOperation) parent = parent.Parent;
        if (parent is IFieldInitializerOperation) return true;
        if (parent is IVariableInitializerOperation { Parent: IVariableDeclaratorOperation { Parent: IVariableDeclarationOperation declaration } })
        {
            var owner = declaration.Parent is IVariableDeclarationGroupOperation group ? group.Parent : declaration.Parent;
            return owner is IUsingDeclarationOperation or IUsingOperation;
        }
        return false;
    }

    private static bool IsScalar(ITypeSymbol? type) =>
        type is { Name: "Scalar", ContainingNamespace.Name: "TorchSharp" } ||
        type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } nullable && IsScalar(nullable.TypeArguments[0]);

    private static bool IsTorchSharp(ISymbol symbol) => symbol.ContainingAssembly?.Name == "TorchSharp";

    private static bool IsCreator(IMethodSymbol method, ImmutableDictionary<int, string> creators)
    {
        if (!IsTorchSharp(method)) return false;
        var definition = method.ReducedFrom ?? method;
        definition = definition.OriginalDefinition;
        return creators.ContainsKey(definition.MetadataToken);
    }

    private static string Name(IMethodSymbol m) =>
        $"{m.ContainingType.Name}.{m.Name}({string.Join(", ", m.Parameters.Select(p => p.Type.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat)))})";

    private static readonly Lazy<ImmutableArray<MetadataReference>> References = new(() =>
    {
        var paths = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => !Path.GetFileName(p).StartsWith("SliceLearning", StringComparison.OrdinalIgnoreCase));
        return paths.Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToImmutableArray();
    });

    // ---- TorchSharp IL ----

    private static ImmutableDictionary<int, string> ScanTorchSharp()
    {
        var assembly = typeof(Scalar).Assembly;
        var module = assembly.ManifestModule;
        var operandTypes = typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Select(f => (OpCode)f.GetValue(null)!).ToDictionary(o => (ushort)o.Value, o => o.OperandType);
        bool IsCreation(MethodBase m) =>
            (m.DeclaringType == typeof(Scalar) && (m.Name == "op_Implicit" || m.IsConstructor)) ||
            (m.Name == "ToScalar" && m is MethodInfo { ReturnType: var r } && r == typeof(Scalar));
        bool IsDispose(MethodBase m) => m.DeclaringType == typeof(Scalar) && m.Name == "Dispose";

        var names = new Dictionary<int, string>();
        var callers = new Dictionary<int, List<int>>();
        var direct = new HashSet<int>();
        Type[] types;
        try { types = assembly.GetTypes(); }
        catch (ReflectionTypeLoadException e) { types = e.Types.Where(t => t is not null).ToArray()!; }
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        foreach (var type in types)
        {
            foreach (var method in type.GetMethods(all).Cast<MethodBase>().Concat(type.GetConstructors(all)))
            {
                int token = method.MetadataToken;
                names[token] = $"{type.FullName}.{method.Name}({string.Join(", ", method.GetParameters().Select(p => p.ParameterType.Name))})";
                if (IsCreation(method)) { direct.Add(token); continue; }
                byte[]? il;
                try { il = method.GetMethodBody()?.GetILAsByteArray(); }
                catch (Exception e) when (e is BadImageFormatException or InvalidOperationException or NotSupportedException) { il = null; }
                if (il is null) continue;
                Type[]? typeArgs = type.IsGenericType ? type.GetGenericArguments() : null;
                Type[]? methodArgs = method.IsGenericMethod ? method.GetGenericArguments() : null;
                bool creates = false, disposes = false;
                foreach (int calleeToken in CallTokens(il, operandTypes))
                {
                    MethodBase? callee;
                    try { callee = module.ResolveMethod(calleeToken, typeArgs, methodArgs); }
                    catch (Exception e) when (e is ArgumentException or BadImageFormatException or TypeLoadException or FileNotFoundException) { continue; }
                    if (callee is null) continue;
                    if (IsCreation(callee)) creates = true;
                    else if (IsDispose(callee)) disposes = true;
                    if (callee.Module == module)
                    {
                        int target = callee.MetadataToken;
                        if (!callers.TryGetValue(target, out var list)) callers[target] = list = new List<int>();
                        list.Add(token);
                    }
                }
                if (creates && !disposes) direct.Add(token);
            }
        }
        // Everything that calls a creator is one.
        var result = new HashSet<int>(direct);
        var queue = new Queue<int>(direct);
        while (queue.Count > 0)
        {
            int t = queue.Dequeue();
            if (!callers.TryGetValue(t, out var list)) continue;
            foreach (int caller in list)
                if (result.Add(caller)) queue.Enqueue(caller);
        }
        return result.ToImmutableDictionary(t => t, t => names.GetValueOrDefault(t, $"0x{t:x8}"));
    }

    private static IEnumerable<int> CallTokens(byte[] il, Dictionary<ushort, OperandType> operandTypes)
    {
        int i = 0;
        while (i < il.Length)
        {
            ushort code = il[i++];
            if (code == 0xFE) code = (ushort)(0xFE00 | il[i++]);
            if (!operandTypes.TryGetValue(code, out var operand)) yield break;
            switch (operand)
            {
                case OperandType.InlineMethod:
                    yield return BitConverter.ToInt32(il, i);
                    i += 4;
                    break;
                case OperandType.InlineNone: break;
                case OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar: i += 1; break;
                case OperandType.InlineVar: i += 2; break;
                case OperandType.InlineI8 or OperandType.InlineR: i += 8; break;
                case OperandType.InlineSwitch:
                    int n = BitConverter.ToInt32(il, i);
                    i += 4 + 4 * n;
                    break;
                default: i += 4; break;
            }
        }
    }
}
