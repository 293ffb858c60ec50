import { describe, expect, it } from 'vitest';
import { withoutStanNoise } from '../../engine/stan-noise';

describe('withoutStanNoise', () => {
  it('drops Stan\'s "Exception thrown" lines, whole or with the newline written apart, and passes the rest', () => {
    // Prepare
    const written: string[] = [];
    const write = withoutStanNoise((chunk) => {
      written.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
      return true;
    });

    // Act
    write('Exception thrown\n');
    write(new TextEncoder().encode('Exception thrown\nException thrown\n'));
    write('Exception thrown');
    write('\n');
    write('a real warning\n');
    write('\n');
    write('Exception thrown: with details\n');

    // Assess
    expect(written).toEqual(['a real warning\n', '\n', 'Exception thrown: with details\n']);
  });
});
