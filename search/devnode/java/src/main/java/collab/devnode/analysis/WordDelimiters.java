package collab.devnode.analysis;

import org.apache.lucene.analysis.CharArraySet;
import org.apache.lucene.analysis.miscellaneous.WordDelimiterFilter;
import org.apache.lucene.analysis.miscellaneous.WordDelimiterGraphFilter;
import org.apache.lucene.analysis.miscellaneous.WordDelimiterIterator;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.env.Environment;
import org.elasticsearch.index.analysis.Analysis;
import org.elasticsearch.index.analysis.TokenFilterFactory;

import static org.apache.lucene.analysis.miscellaneous.WordDelimiterGraphFilter.CATENATE_ALL;
import static org.apache.lucene.analysis.miscellaneous.WordDelimiterGraphFilter.CATENATE_NUMBERS;
import static org.apache.lucene.analysis.miscellaneous.WordDelimiterGraphFilter.CATENATE_WORDS;
import static org.apache.lucene.analysis.miscellaneous.WordDelimiterGraphFilter.GENERATE_NUMBER_PARTS;
import static org.apache.lucene.analysis.miscellaneous.WordDelimiterGraphFilter.GENERATE_WORD_PARTS;
import static org.apache.lucene.analysis.miscellaneous.WordDelimiterGraphFilter.IGNORE_KEYWORDS;
import static org.apache.lucene.analysis.miscellaneous.WordDelimiterGraphFilter.PRESERVE_ORIGINAL;
import static org.apache.lucene.analysis.miscellaneous.WordDelimiterGraphFilter.SPLIT_ON_CASE_CHANGE;
import static org.apache.lucene.analysis.miscellaneous.WordDelimiterGraphFilter.SPLIT_ON_NUMERICS;
import static org.apache.lucene.analysis.miscellaneous.WordDelimiterGraphFilter.STEM_ENGLISH_POSSESSIVE;

/** word_delimiter_graph and word_delimiter with Elasticsearch's parameters and defaults (type_table excepted). */
final class WordDelimiters {

    private WordDelimiters() {}

    static TokenFilterFactory graph(Environment env, String name, Settings settings) {
        int flags = flags(settings);
        CharArraySet protectedWords = protectedWords(env, settings);
        boolean adjustOffsets = settings.getAsBoolean("adjust_offsets", true);
        return TokenFilters.filter(
            name,
            stream -> new WordDelimiterGraphFilter(stream, adjustOffsets, WordDelimiterIterator.DEFAULT_WORD_DELIM_TABLE, flags, protectedWords)
        );
    }

    static TokenFilterFactory flat(Environment env, String name, Settings settings) {
        int flags = flags(settings);
        CharArraySet protectedWords = protectedWords(env, settings);
        return TokenFilters.filter(
            name,
            stream -> new WordDelimiterFilter(stream, WordDelimiterIterator.DEFAULT_WORD_DELIM_TABLE, flags, protectedWords)
        );
    }

    private static int flags(Settings settings) {
        if (settings.get("type_table") != null || settings.get("type_table_path") != null) {
            throw new IllegalArgumentException("[type_table] is not supported by the dev node's word delimiter filters");
        }
        int flags = 0;
        flags |= flag(GENERATE_WORD_PARTS, settings, "generate_word_parts", true);
        flags |= flag(GENERATE_NUMBER_PARTS, settings, "generate_number_parts", true);
        flags |= flag(CATENATE_WORDS, settings, "catenate_words", false);
        flags |= flag(CATENATE_NUMBERS, settings, "catenate_numbers", false);
        flags |= flag(CATENATE_ALL, settings, "catenate_all", false);
        flags |= flag(SPLIT_ON_CASE_CHANGE, settings, "split_on_case_change", true);
        flags |= flag(PRESERVE_ORIGINAL, settings, "preserve_original", false);
        flags |= flag(SPLIT_ON_NUMERICS, settings, "split_on_numerics", true);
        flags |= flag(STEM_ENGLISH_POSSESSIVE, settings, "stem_english_possessive", true);
        flags |= flag(IGNORE_KEYWORDS, settings, "ignore_keywords", false);
        return flags;
    }

    private static int flag(int flag, Settings settings, String key, boolean defaultValue) {
        return settings.getAsBoolean(key, defaultValue) ? flag : 0;
    }

    private static CharArraySet protectedWords(Environment env, Settings settings) {
        var words = Analysis.getWordSet(env, settings, "protected_words");
        return words == null ? null : CharArraySet.copy(words);
    }
}
