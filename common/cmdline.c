/* cmdline.c - words are separated by spaces; a value runs to the next space. */
#include "cmdline.h"
#include "string.h"

bool cmdline_get(const char *command_line, const char *key, char *value, size_t size)
{
    size_t key_length = strlen(key);
    for (const char *word = command_line; *word;) {
        while (*word == ' ')
            word++;
        const char *end = word;
        while (*end && *end != ' ')
            end++;
        if ((size_t)(end - word) > key_length && strncmp(word, key, key_length) == 0 &&
            word[key_length] == '=') {
            const char *start = word + key_length + 1;
            size_t length = MIN((size_t)(end - start), size - 1);
            memcpy(value, start, length);
            value[length] = '\0';
            return true;
        }
        word = end;
    }
    return false;
}
