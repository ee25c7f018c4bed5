package collab.devnode.analysis;

import org.apache.lucene.analysis.charfilter.HTMLStripCharFilter;
import org.apache.lucene.analysis.charfilter.MappingCharFilter;
import org.apache.lucene.analysis.charfilter.NormalizeCharMap;
import org.apache.lucene.analysis.pattern.PatternReplaceCharFilter;
import org.elasticsearch.common.regex.Regex;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.env.Environment;
import org.elasticsearch.index.analysis.Analysis;
import org.elasticsearch.index.analysis.CharFilterFactory;
import org.elasticsearch.index.analysis.NormalizingCharFilterFactory;
import org.elasticsearch.indices.analysis.AnalysisModule.AnalysisProvider;

import java.io.Reader;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.elasticsearch.plugins.AnalysisPlugin.requiresAnalysisSettings;

/** The char filters of Elasticsearch's analysis-common module: html_strip, mapping, pattern_replace. */
public final class CharFilters {

    private static final Pattern MAPPING_RULE = Pattern.compile("(.*)\\s*=>\\s*(.*)\\s*$");

    private CharFilters() {}

    public static Map<String, AnalysisProvider<CharFilterFactory>> providers() {
        Map<String, AnalysisProvider<CharFilterFactory>> providers = new TreeMap<>();
        providers.put("html_strip", (index, env, name, settings) -> {
            Set<String> escapedTags = new HashSet<>(settings.getAsList("escaped_tags"));
            return charFilter(name, false, reader -> new HTMLStripCharFilter(reader, escapedTags.isEmpty() ? null : escapedTags));
        });
        providers.put("mapping", requiresAnalysisSettings((index, env, name, settings) -> mapping(env, name, settings)));
        providers.put("pattern_replace", requiresAnalysisSettings((index, env, name, settings) -> {
            String pattern = settings.get("pattern");
            if (pattern == null) {
                throw new IllegalArgumentException("pattern is missing for [" + name + "] char filter of type 'pattern_replace'");
            }
            Pattern compiled = Regex.compile(pattern, settings.get("flags"));
            String replacement = settings.get("replacement", "");
            return charFilter(name, true, reader -> new PatternReplaceCharFilter(compiled, replacement, reader));
        }));
        return providers;
    }

    private static CharFilterFactory mapping(Environment env, String name, Settings settings) {
        List<String> rules = Analysis.getWordList(env, settings, "mappings");
        if (rules == null) {
            throw new IllegalArgumentException("mapping requires either `mappings` or `mappings_path` to be configured");
        }
        NormalizeCharMap.Builder map = new NormalizeCharMap.Builder();
        for (String rule : rules) {
            Matcher matcher = MAPPING_RULE.matcher(rule);
            if (matcher.find() == false) {
                throw new RuntimeException("Invalid Mapping Rule : [" + rule + "]");
            }
            String source = unescape(matcher.group(1).trim());
            if (source.isEmpty()) {
                throw new RuntimeException("Invalid Mapping Rule : [" + rule + "]. Illegal mapping.");
            }
            map.add(source, unescape(matcher.group(2).trim()));
        }
        NormalizeCharMap charMap = map.build();
        return charFilter(name, true, reader -> new MappingCharFilter(charMap, reader));
    }

    /** Decodes the escapes Elasticsearch allows in mapping rules: \\n \\t \\r \\b \\f \\uXXXX and escaped characters. */
    private static String unescape(String text) {
        StringBuilder out = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c != '\\' || i + 1 >= text.length()) {
                out.append(c);
                continue;
            }
            char next = text.charAt(++i);
            switch (next) {
                case 'n' -> out.append('\n');
                case 't' -> out.append('\t');
                case 'r' -> out.append('\r');
                case 'b' -> out.append('\b');
                case 'f' -> out.append('\f');
                case 'u' -> {
                    out.append((char) Integer.parseInt(text.substring(i + 1, i + 5), 16));
                    i += 4;
                }
                default -> out.append(next);
            }
        }
        return out.toString();
    }

    private static CharFilterFactory charFilter(String name, boolean normalizing, UnaryOperator<Reader> filter) {
        if (normalizing) {
            return new NormalizingCharFilterFactory() {
                @Override
                public String name() {
                    return name;
                }

                @Override
                public Reader create(Reader reader) {
                    return filter.apply(reader);
                }
            };
        }
        return new CharFilterFactory() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public Reader create(Reader reader) {
                return filter.apply(reader);
            }
        };
    }
}
