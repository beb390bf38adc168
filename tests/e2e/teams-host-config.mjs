// The Teams (light theme) host config for the Adaptive Cards JavaScript renderer.
//
// Written for BCP Board from the values Microsoft publishes for Teams in npm
// adaptivecards-designer 2.4.4, lib/hostConfigs/microsoft-teams-light.json. That package
// is not installed: it asks for adaptivecards 2.x (we test with 3.0.6), monaco-editor and
// the templating packages as peers, all to read one JSON file. Kept here: what changes
// layout at phone width and what validation reads (interactivity, at most six actions,
// no custom styles), and the colours of the container styles. The designer's factSet
// says "warp"; the renderer reads "wrap" (default true), written so here. When Teams
// changes its host config, compare this with a newer designer release.

const FOREGROUND = {
  default: { default: "#ff252424", subtle: "#bf252424" },
  dark: { default: "#252424", subtle: "#bf252424" },
  light: { default: "#ffffff", subtle: "#fff3f2f1" },
  accent: { default: "#6264a7", subtle: "#8b8cc7" },
  good: { default: "#92c353", subtle: "#e592c353" },
  warning: { default: "#f8d22a", subtle: "#e5f8d22a" },
  attention: { default: "#c4314b", subtle: "#e5c4314b" },
};

function containerStyle(backgroundColor, borderColor) {
  return { backgroundColor, borderColor, foregroundColors: FOREGROUND };
}

const FONT_SIZES = { small: 12, default: 14, medium: 14, large: 18, extraLarge: 24 };
const FONT_WEIGHTS = { lighter: 200, default: 400, bolder: 600 };

export default {
  supportsInteractivity: true,
  choiceSetInputValueSeparator: ",",
  spacing: { small: 8, default: 12, medium: 16, large: 20, extraLarge: 24, padding: 16 },
  separator: { lineThickness: 1, lineColor: "#EEEEEE" },
  imageSizes: { small: 32, medium: 52, large: 100 },
  fontTypes: {
    default: {
      fontFamily: "'Segoe UI', Tahoma, Geneva, Verdana, sans-serif",
      fontSizes: FONT_SIZES,
      fontWeights: FONT_WEIGHTS,
    },
    monospace: {
      fontFamily: "'Courier New', Courier, monospace",
      fontSizes: FONT_SIZES,
      fontWeights: FONT_WEIGHTS,
    },
  },
  textStyles: {
    heading: {
      fontType: "default",
      size: "large",
      weight: "bolder",
      color: "default",
      isSubtle: false,
    },
  },
  textBlock: { headingLevel: 2 },
  containerStyles: {
    default: containerStyle("#ffffff", "#CCCCCC"),
    emphasis: containerStyle("#fff9f8f7", "#666666"),
    accent: containerStyle("#C7DEF9", "#62A8F7"),
    good: containerStyle("#CCFFCC", "#69E569"),
    attention: containerStyle("#FFC5B2", "#FF764C"),
    warning: containerStyle("#FFE2B2", "#FFBC51"),
  },
  actions: {
    maxActions: 6,
    spacing: "Default",
    buttonSpacing: 8,
    showCard: { actionMode: "Inline", inlineTopMargin: 16, style: "emphasis" },
    preExpandSingleShowCardAction: false,
    actionsOrientation: "Horizontal",
    actionAlignment: "Left",
  },
  adaptiveCard: { allowCustomStyle: false },
  imageSet: { imageSize: "Medium", maxImageHeight: 100 },
  factSet: {
    title: { size: "Default", color: "Default", isSubtle: false, weight: "Bolder", wrap: true },
    value: { size: "Default", color: "Default", isSubtle: false, weight: "Default", wrap: true },
    spacing: 16,
  },
};
