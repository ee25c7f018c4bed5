package collab.devnode.analysis;

import org.apache.lucene.analysis.CharArraySet;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.classic.ClassicFilter;
import org.apache.lucene.analysis.core.DecimalDigitFilter;
import org.apache.lucene.analysis.core.FlattenGraphFilter;
import org.apache.lucene.analysis.core.LowerCaseFilter;
import org.apache.lucene.analysis.core.UpperCaseFilter;
import org.apache.lucene.analysis.el.GreekLowerCaseFilter;
import org.apache.lucene.analysis.en.KStemFilter;
import org.apache.lucene.analysis.en.PorterStemFilter;
import org.apache.lucene.analysis.ga.IrishLowerCaseFilter;
import org.apache.lucene.analysis.miscellaneous.ASCIIFoldingFilter;
import org.apache.lucene.analysis.miscellaneous.KeywordMarkerFilter;
import org.apache.lucene.analysis.miscellaneous.LengthFilter;
import org.apache.lucene.analysis.miscellaneous.PatternKeywordMarkerFilter;
import org.apache.lucene.analysis.miscellaneous.RemoveDuplicatesTokenFilter;
import org.apache.lucene.analysis.miscellaneous.SetKeywordMarkerFilter;
import org.apache.lucene.analysis.miscellaneous.TrimFilter;
import org.apache.lucene.analysis.miscellaneous.TruncateTokenFilter;
import org.apache.lucene.analysis.ngram.EdgeNGramTokenFilter;
import org.apache.lucene.analysis.ngram.NGramTokenFilter;
import org.apache.lucene.analysis.pattern.PatternReplaceFilter;
import org.apache.lucene.analysis.reverse.ReverseStringFilter;
import org.apache.lucene.analysis.snowball.SnowballFilter;
import org.apache.lucene.analysis.tr.TurkishLowerCaseFilter;
import org.apache.lucene.analysis.util.ElisionFilter;
import org.elasticsearch.common.regex.Regex;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.env.Environment;
import org.elasticsearch.index.analysis.AbstractTokenFilterFactory;
import org.elasticsearch.index.analysis.Analysis;
import org.elasticsearch.index.analysis.NormalizingTokenFilterFactory;
import org.elasticsearch.index.analysis.TokenFilterFactory;
import org.elasticsearch.indices.analysis.AnalysisModule.AnalysisProvider;

import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;

import static org.elasticsearch.plugins.AnalysisPlugin.requiresAnalysisSettings;

/** The token filters of Elasticsearch's analysis-common module, same names and parameters, built on Lucene. */
public final class TokenFilters {

    private TokenFilters() {}

    public static Map<String, AnalysisProvider<TokenFilterFactory>> providers() {
        Map<String, AnalysisProvider<TokenFilterFactory>> providers = new TreeMap<>();
        providers.put("asciifolding", (index, env, name, settings) -> {
            boolean preserveOriginal = settings.getAsBoolean("preserve_original", false);
            return normalizing(name, stream -> new ASCIIFoldingFilter(stream, preserveOriginal));
        });
        providers.put("lowercase", (index, env, name, settings) -> lowercase(name, settings.get("language")));
        providers.put("uppercase", (index, env, name, settings) -> normalizing(name, UpperCaseFilter::new));
        providers.put("trim", (index, env, name, settings) -> normalizing(name, TrimFilter::new));
        providers.put("decimal_digit", (index, env, name, settings) -> normalizing(name, DecimalDigitFilter::new));
        providers.put("classic", (index, env, name, settings) -> filter(name, ClassicFilter::new));
        providers.put("flatten_graph", (index, env, name, settings) -> filter(name, FlattenGraphFilter::new));
        providers.put("reverse", (index, env, name, settings) -> filter(name, ReverseStringFilter::new));
        providers.put("remove_duplicates", (index, env, name, settings) -> filter(name, RemoveDuplicatesTokenFilter::new));
        providers.put("porter_stem", (index, env, name, settings) -> filter(name, PorterStemFilter::new));
        providers.put("kstem", (index, env, name, settings) -> filter(name, KStemFilter::new));
        providers.put("stemmer", (index, env, name, settings) -> Stemmers.filter(name, settings));
        providers.put("snowball", (index, env, name, settings) -> {
            String language = settings.get("language", settings.get("name", "English"));
            return filter(name, stream -> new SnowballFilter(stream, language));
        });
        providers.put("truncate", (index, env, name, settings) -> {
            int length = settings.getAsInt("length", 10);
            if (length <= 0) {
                throw new IllegalArgumentException("length parameter must be provided");
            }
            return filter(name, stream -> new TruncateTokenFilter(stream, length));
        });
        providers.put("length", (index, env, name, settings) -> {
            int min = settings.getAsInt("min", 0);
            int max = settings.getAsInt("max", Integer.MAX_VALUE);
            return filter(name, stream -> new LengthFilter(stream, min, max));
        });
        providers.put("edge_ngram", (index, env, name, settings) -> {
            int minGram = settings.getAsInt("min_gram", 1);
            int maxGram = settings.getAsInt("max_gram", 2);
            boolean preserveOriginal = settings.getAsBoolean("preserve_original", false);
            if ("back".equalsIgnoreCase(settings.get("side", "front"))) {
                throw new IllegalArgumentException("The [side] parameter is no longer supported; use a [reverse] filter instead");
            }
            return filter(name, stream -> new EdgeNGramTokenFilter(stream, minGram, maxGram, preserveOriginal));
        });
        providers.put("ngram", (index, env, name, settings) -> {
            int minGram = settings.getAsInt("min_gram", 1);
            int maxGram = settings.getAsInt("max_gram", 2);
            boolean preserveOriginal = settings.getAsBoolean("preserve_original", false);
            NGramLimits.check(index, "NGram Token Filter", minGram, maxGram);
            return filter(name, stream -> new NGramTokenFilter(stream, minGram, maxGram, preserveOriginal));
        });
        providers.put("keyword_marker", requiresAnalysisSettings((index, env, name, settings) -> keywordMarker(env, name, settings)));
        providers.put("elision", requiresAnalysisSettings((index, env, name, settings) -> {
            CharArraySet articles = Analysis.parseArticles(env, settings);
            if (articles == null) {
                throw new IllegalArgumentException("elision filter requires [articles] or [articles_path] setting");
            }
            return normalizing(name, stream -> new ElisionFilter(stream, articles));
        }));
        providers.put("pattern_replace", requiresAnalysisSettings((index, env, name, settings) -> {
            String pattern = settings.get("pattern");
            if (pattern == null) {
                throw new IllegalArgumentException("pattern is missing for [" + name + "] token filter of type 'pattern_replace'");
            }
            Pattern compiled = Regex.compile(pattern, settings.get("flags"));
            String replacement = settings.get("replacement", "");
            boolean all = settings.getAsBoolean("all", true);
            return normalizing(name, stream -> new PatternReplaceFilter(stream, compiled, replacement, all));
        }));
        providers.put("word_delimiter_graph", (index, env, name, settings) -> WordDelimiters.graph(env, name, settings));
        providers.put("word_delimiter", (index, env, name, settings) -> WordDelimiters.flat(env, name, settings));
        providers.put("synonym", requiresAnalysisSettings((index, env, name, settings) -> new SynonymFilterFactory(env, name, settings, false)));
        providers.put("synonym_graph", requiresAnalysisSettings((index, env, name, settings) -> new SynonymFilterFactory(env, name, settings, true)));
        return providers;
    }

    static TokenFilterFactory filter(String name, UnaryOperator<TokenStream> filter) {
        return new AbstractTokenFilterFactory(name) {
            @Override
            public TokenStream create(TokenStream tokenStream) {
                return filter.apply(tokenStream);
            }
        };
    }

    /** A filter that also applies to keyword normalizers and multi-term queries, as in Elasticsearch. */
    static TokenFilterFactory normalizing(String name, UnaryOperator<TokenStream> filter) {
        class Normalizing extends AbstractTokenFilterFactory implements NormalizingTokenFilterFactory {
            Normalizing() {
                super(name);
            }

            @Override
            public TokenStream create(TokenStream tokenStream) {
                return filter.apply(tokenStream);
            }
        }
        return new Normalizing();
    }

    private static TokenFilterFactory lowercase(String name, String language) {
        if (language == null) {
            return normalizing(name, LowerCaseFilter::new);
        }
        return switch (language.toLowerCase(Locale.ROOT)) {
            case "greek" -> normalizing(name, GreekLowerCaseFilter::new);
            case "irish" -> normalizing(name, IrishLowerCaseFilter::new);
            case "turkish" -> normalizing(name, TurkishLowerCaseFilter::new);
            default -> throw new IllegalArgumentException("language [" + language + "] not support for lower case");
        };
    }

    private static TokenFilterFactory keywordMarker(Environment env, String name, Settings settings) {
        boolean ignoreCase = settings.getAsBoolean("ignore_case", false);
        String pattern = settings.get("keywords_pattern");
        CharArraySet keywords = Analysis.getWordSet(env, settings, "keywords");
        if (pattern != null && keywords != null) {
            throw new IllegalArgumentException("cannot specify both `keywords_pattern` and `keywords` or `keywords_path`");
        }
        if (pattern != null) {
            Pattern compiled = Pattern.compile(pattern);
            return filter(name, stream -> new PatternKeywordMarkerFilter(stream, compiled));
        }
        if (keywords == null) {
            throw new IllegalArgumentException("keyword filter requires either `keywords`, `keywords_path`, or `keywords_pattern` to be configured");
        }
        CharArraySet marked = ignoreCase ? new CharArraySet(keywords, true) : keywords;
        return filter(name, stream -> new SetKeywordMarkerFilter(stream, marked));
    }
}
