package collab.devnode.analysis;

import org.apache.lucene.analysis.Tokenizer;
import org.apache.lucene.analysis.classic.ClassicTokenizer;
import org.apache.lucene.analysis.core.KeywordTokenizer;
import org.apache.lucene.analysis.core.LetterTokenizer;
import org.apache.lucene.analysis.core.WhitespaceTokenizer;
import org.apache.lucene.analysis.email.UAX29URLEmailTokenizer;
import org.apache.lucene.analysis.ngram.EdgeNGramTokenizer;
import org.apache.lucene.analysis.ngram.NGramTokenizer;
import org.apache.lucene.analysis.path.PathHierarchyTokenizer;
import org.apache.lucene.analysis.path.ReversePathHierarchyTokenizer;
import org.apache.lucene.analysis.pattern.PatternTokenizer;
import org.elasticsearch.common.regex.Regex;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.index.IndexSettings;
import org.elasticsearch.index.analysis.TokenizerFactory;
import org.elasticsearch.indices.analysis.AnalysisModule.AnalysisProvider;

import java.util.Map;
import java.util.TreeMap;
import java.util.function.IntPredicate;
import java.util.regex.Pattern;

/** The tokenizers of Elasticsearch's analysis-common module, same names and parameters, built on Lucene. */
public final class Tokenizers {

    private Tokenizers() {}

    public static Map<String, AnalysisProvider<TokenizerFactory>> providers() {
        Map<String, AnalysisProvider<TokenizerFactory>> providers = new TreeMap<>();
        providers.put("edge_ngram", (index, env, name, settings) -> edgeNGram(name, settings));
        providers.put("ngram", (index, env, name, settings) -> nGram(index, name, settings));
        providers.put("whitespace", (index, env, name, settings) -> {
            int maxTokenLength = settings.getAsInt("max_token_length", 255);
            return TokenizerFactory.newFactory(name, () -> new WhitespaceTokenizer(WhitespaceTokenizer.DEFAULT_TOKEN_ATTRIBUTE_FACTORY, maxTokenLength));
        });
        providers.put("keyword", (index, env, name, settings) -> {
            int bufferSize = settings.getAsInt("buffer_size", 256);
            return TokenizerFactory.newFactory(name, () -> new KeywordTokenizer(bufferSize));
        });
        providers.put("letter", (index, env, name, settings) -> TokenizerFactory.newFactory(name, LetterTokenizer::new));
        providers.put("classic", (index, env, name, settings) -> {
            int maxTokenLength = settings.getAsInt("max_token_length", 255);
            return TokenizerFactory.newFactory(name, () -> {
                ClassicTokenizer tokenizer = new ClassicTokenizer();
                tokenizer.setMaxTokenLength(maxTokenLength);
                return tokenizer;
            });
        });
        providers.put("uax_url_email", (index, env, name, settings) -> {
            int maxTokenLength = settings.getAsInt("max_token_length", 255);
            return TokenizerFactory.newFactory(name, () -> {
                UAX29URLEmailTokenizer tokenizer = new UAX29URLEmailTokenizer();
                tokenizer.setMaxTokenLength(maxTokenLength);
                return tokenizer;
            });
        });
        providers.put("pattern", (index, env, name, settings) -> {
            Pattern pattern = Regex.compile(settings.get("pattern", "\\W+"), settings.get("flags"));
            int group = settings.getAsInt("group", -1);
            return TokenizerFactory.newFactory(name, () -> new PatternTokenizer(pattern, group));
        });
        providers.put("path_hierarchy", (index, env, name, settings) -> pathHierarchy(name, settings));
        return providers;
    }

    private static TokenizerFactory edgeNGram(String name, Settings settings) {
        int minGram = settings.getAsInt("min_gram", NGramTokenizer.DEFAULT_MIN_NGRAM_SIZE);
        int maxGram = settings.getAsInt("max_gram", NGramTokenizer.DEFAULT_MAX_NGRAM_SIZE);
        IntPredicate tokenChars = TokenChars.parse(settings);
        return TokenizerFactory.newFactory(name, () -> tokenChars == null ? new EdgeNGramTokenizer(minGram, maxGram) : new EdgeNGramTokenizer(minGram, maxGram) {
            @Override
            protected boolean isTokenChar(int chr) {
                return tokenChars.test(chr);
            }
        });
    }

    private static TokenizerFactory nGram(IndexSettings index, String name, Settings settings) {
        int minGram = settings.getAsInt("min_gram", NGramTokenizer.DEFAULT_MIN_NGRAM_SIZE);
        int maxGram = settings.getAsInt("max_gram", NGramTokenizer.DEFAULT_MAX_NGRAM_SIZE);
        NGramLimits.check(index, "NGram Tokenizer", minGram, maxGram);
        IntPredicate tokenChars = TokenChars.parse(settings);
        return TokenizerFactory.newFactory(name, () -> tokenChars == null ? new NGramTokenizer(minGram, maxGram) : new NGramTokenizer(minGram, maxGram) {
            @Override
            protected boolean isTokenChar(int chr) {
                return tokenChars.test(chr);
            }
        });
    }

    private static TokenizerFactory pathHierarchy(String name, Settings settings) {
        char delimiter = singleChar(settings, "delimiter", PathHierarchyTokenizer.DEFAULT_DELIMITER);
        char replacement = singleChar(settings, "replacement", delimiter);
        int bufferSize = settings.getAsInt("buffer_size", 1024);
        boolean reverse = settings.getAsBoolean("reverse", false);
        int skip = settings.getAsInt("skip", 0);
        return TokenizerFactory.newFactory(name, () -> reverse
            ? new ReversePathHierarchyTokenizer(bufferSize, delimiter, replacement, skip)
            : new PathHierarchyTokenizer(bufferSize, delimiter, replacement, skip));
    }

    private static char singleChar(Settings settings, String key, char fallback) {
        String value = settings.get(key);
        if (value == null) {
            return fallback;
        }
        if (value.length() != 1) {
            throw new IllegalArgumentException(key + " can only be a one char value");
        }
        return value.charAt(0);
    }
}
