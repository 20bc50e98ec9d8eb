import { useState } from 'react';

export interface CompareSliderProps {
  /** The input (shown scaled up to the output's size). */
  before: string;
  after: string;
  width: number;
  height: number;
  label?: string;
}

/**
 * Before/after comparison: the output fills the frame, the input is drawn over it up to the slider. The input is
 * scaled with nearest-neighbour so its real pixels stay visible next to the restored ones.
 */
export function CompareSlider({ before, after, width, height, label }: CompareSliderProps) {
  const [position, setPosition] = useState(50);
  return (
    <figure className="compare" data-testid="compare-slider">
      <div className="compare-frame" style={{ aspectRatio: `${width} / ${height}` }}>
        <img src={after} alt={`${label ?? 'output'} (after)`} className="compare-after" />
        <img
          src={before}
          alt={`${label ?? 'input'} (before)`}
          className="compare-before"
          style={{ clipPath: `inset(0 ${100 - position}% 0 0)` }}
        />
        <div className="compare-handle" style={{ left: `${position}%` }} />
      </div>
      <input
        type="range"
        min={0}
        max={100}
        value={position}
        aria-label="before/after position"
        onChange={(e) => setPosition(Number(e.target.value))}
      />
      <figcaption>
        before · after {width}×{height}
      </figcaption>
    </figure>
  );
}
